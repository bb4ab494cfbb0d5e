"""Task graphs and fake projects shared by the end-to-end tests."""

from __future__ import annotations

# A dozen tasks, a DAG with shared files: calc/core.py is touched by T002, T005 and T009,
# README.md by T003 and T011. Each task adds a module with a function and its unittest.
DAG12 = """\
# Tasks: calc

## Phase 1: Setup

- [ ] T001 Create the calc package in calc/core.py
  - files: calc/core.py

## Phase 2: Features

- [ ] T002 [P] Add add() to calc/core.py
  - depends: T001
  - files: calc/core.py, tests/test_t002.py
- [ ] T003 [P] Document the package in README.md
  - depends: T001
  - files: README.md
- [ ] T004 [P] Add sub() in calc/sub.py
  - depends: T001
  - files: calc/sub.py, tests/test_t004.py
- [ ] T005 [P] Add mul() to calc/core.py
  - depends: T001
  - files: calc/core.py, tests/test_t005.py
- [ ] T006 [P] Add div() in calc/div.py
  - depends: T004
  - files: calc/div.py, tests/test_t006.py
- [ ] T007 [P] Add pow() in calc/power.py
  - depends: T002
  - files: calc/power.py, tests/test_t007.py
- [ ] T008 [P] Add mod() in calc/mod.py
  - depends: T004, T005
  - files: calc/mod.py, tests/test_t008.py

## Phase 3: Polish

- [ ] T009 Add neg() to calc/core.py
  - depends: T005
  - files: calc/core.py, tests/test_t009.py
- [ ] T010 [P] Add abs() in calc/absval.py
  - depends: T006, T007
  - files: calc/absval.py, tests/test_t010.py
- [ ] T011 [P] Add usage to README.md
  - depends: T003, T008
  - files: README.md
- [ ] T012 [P] Add a changelog in CHANGELOG.md
  - depends: T010
  - files: CHANGELOG.md
"""


def dag12_script(sleep: float, log: str | None = None) -> dict[str, object]:
    """What each task's fake agent writes: a function plus a test that checks it."""
    script: dict[str, object] = {"default": {"sleep": sleep}}
    if log:
        script["_log"] = log
    funcs = {
        "T002": ("core", "add", "a + b"),
        "T004": ("sub", "sub", "a - b"),
        "T005": ("core", "mul", "a * b"),
        "T006": ("div", "div", "a / b"),
        "T007": ("power", "pow_", "a ** b"),
        "T008": ("mod", "mod", "a % b"),
        "T009": ("core", "neg", "-a + 0 * b"),
        "T010": ("absval", "abs_", "abs(a) + 0 * b"),
    }
    script["T001"] = {"sleep": sleep, "write": {"calc/__init__.py": "", "calc/core.py": "# core\n"}}
    for tid, (mod, fn, expr) in funcs.items():
        want = eval(expr, {"a": 6, "b": 3})
        test = (
            "import unittest\n"
            f"from calc.{mod} import {fn}\n\n\n"
            f"class T(unittest.TestCase):\n    def test_it(self):\n"
            f"        self.assertEqual({fn}(6, 3), {want!r})\n"
        )
        code = f"\n\ndef {fn}(a, b):\n    return {expr}"
        entry: dict[str, object] = {"sleep": sleep, "write": {f"tests/test_{tid.lower()}.py": test}}
        if mod == "core":
            entry["append"] = {"calc/core.py": code}
        else:
            entry["write"] = {**entry["write"], f"calc/{mod}.py": code.lstrip() + "\n"}  # type: ignore[dict-item]
        script[tid] = entry
    script["T003"] = {"sleep": sleep, "append": {"README.md": "calc: a tiny calculator"}}
    script["T011"] = {"sleep": sleep, "append": {"README.md": "usage: from calc.core import add"}}
    script["T012"] = {"sleep": sleep, "write": {"CHANGELOG.md": "# Changelog\n- everything\n"}}
    return script


BASE_FILES = {"README.md": "# calc\n", "tests/__init__.py": ""}
