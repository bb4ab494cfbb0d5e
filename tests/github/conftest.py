"""A fake `gh` on PATH: a small Python script that logs its argv and answers like gh."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

FAKE_GH = r"""#!{python}
import json, os, sys
from pathlib import Path

state = Path(os.environ["FAKE_GH_DIR"])
args = sys.argv[1:]
with open(state / "calls.jsonl", "a") as fh:
    fh.write(json.dumps(args) + "\n")
fail = os.environ.get("FAKE_GH_FAIL", "")
if fail and " ".join(args).startswith(fail.split("=")[0]):
    sys.stderr.write(fail.split("=", 1)[1] + "\n")
    sys.exit(1)
counter = state / "next"
n = int(counter.read_text()) if counter.exists() else 12
if args[:2] == ["issue", "create"]:
    counter.write_text(str(n + 1))
    print(f"https://github.com/o/r/issues/{{n}}")
elif args[:2] == ["pr", "create"]:
    counter.write_text(str(n + 1))
    print(f"https://github.com/o/r/pull/{{n}}")
elif args[:2] == ["issue", "edit"]:
    print(f"https://github.com/o/r/issues/{{args[2]}}")
"""


@dataclass
class FakeGh:
    dir: Path

    def calls(self) -> list[list[str]]:
        log = self.dir / "calls.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]


@pytest.fixture
def fake_gh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeGh:
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir()
    script = bin_dir / "gh"
    script.write_text(FAKE_GH.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    monkeypatch.setenv("FAKE_GH_DIR", str(bin_dir))
    monkeypatch.delenv("FAKE_GH_FAIL", raising=False)
    return FakeGh(bin_dir)
