"""The event catalogue holds every kind the code emits (specflow/runs/catalogue.py)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from specflow.observe.text import live_line, log_line
from specflow.runs import catalogue
from specflow.runs.catalogue import PAYLOADS, Kind, check
from specflow.runs.events import EventLog, read_events

SPECFLOW = Path(__file__).resolve().parents[2] / "specflow"


def emitted_kinds(root: Path) -> list[tuple[str, str]]:
    """(kind, where) for every `…emit("kind", …)` / `emit(Kind.X, …)` call under `root`; a
    kind given any other way is reported as `<dynamic: source>` unless it only forwards one."""
    found: list[tuple[str, str]] = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            fn = node.func
            name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", "")
            if not name.endswith("emit"):
                continue
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            for arg in _choices(node.args[0]):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((arg.value, where))
                elif isinstance(arg, ast.Attribute) and ast.unparse(arg.value) == "Kind":
                    found.append((getattr(Kind, arg.attr, Kind.WARNING).value, where))
                elif not _forwarded(arg):
                    found.append((f"<dynamic: {ast.unparse(arg)}>", where))
    return found


def _choices(arg: ast.expr) -> list[ast.expr]:
    if isinstance(arg, ast.IfExp):
        return [*_choices(arg.body), *_choices(arg.orelse)]
    return [arg]


def _forwarded(arg: ast.expr) -> bool:
    """`kind` handed on by a wrapper (`def emit(kind, **data)`), checked where it is named."""
    return isinstance(arg, ast.Name) and arg.id == "kind"


def test_every_emitted_kind_is_in_the_catalogue() -> None:
    kinds = emitted_kinds(SPECFLOW)
    assert len(kinds) > 40  # the scan sees the code
    unknown = [(k, w) for k, w in kinds if k not in {x.value for x in Kind}]
    assert unknown == []


def test_the_scan_catches_an_unknown_kind(tmp_path: Path) -> None:
    pkg = tmp_path / "specflow"
    pkg.mkdir()
    (pkg / "m.py").write_text(
        "def f(events, emit, kind, k):\n"
        "    events.emit('task_merged', task='T1')\n"
        "    emit('task_exploded', task='T1')\n"
        "    emit(Kind.MERGE_RETRY)\n"
        "    emit(kind)\n"
        "    emit(k)\n"
    )
    found = [k for k, _ in emitted_kinds(pkg)]
    assert found == ["task_merged", "task_exploded", "merge_retry", "<dynamic: k>"]


def test_every_kind_has_a_payload_type_and_the_module_lists_it() -> None:
    assert set(PAYLOADS) == set(Kind)
    for kind in Kind:
        assert kind.value in Path(catalogue.__file__).read_text()


def test_strict_check_refuses_unknown_kinds_and_fields() -> None:
    assert check("task_merged", {"task": "T1", "commit": "abc"}) is Kind.TASK_MERGED
    assert check("model_escalated", {"task": "T1", "from": "a", "to": "b", "reason": "r"})
    with pytest.raises(ValueError, match="not in specflow/runs/catalogue.py"):
        check("task_exploded", {})
    with pytest.raises(ValueError, match=r"fields \['colour'\]"):
        check("task_merged", {"colour": "red"})


def test_the_log_writes_kind_values_and_strict_mode_is_on_in_tests(tmp_path: Path) -> None:
    from specflow.runs import events as events_mod

    assert events_mod.STRICT  # tests/conftest.py sets SPECFLOW_STRICT_EVENTS=1
    log = EventLog(tmp_path / "events.jsonl", fsync=False)
    try:
        log.emit(Kind.TASK_MERGED, task="T001", commit="0123456789abcdef")
        with pytest.raises(ValueError):
            log.emit("task_exploded", task="T001")
    finally:
        log.close()
    (ev,) = read_events(tmp_path / "events.jsonl")
    assert ev["kind"] == "task_merged" and type(ev["kind"]) is str
    assert live_line(ev) == "T001 merged 0123456789"
    assert log_line(ev) == "merged 0123456789"
