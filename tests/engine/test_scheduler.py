from __future__ import annotations

from specflow.domain.tasks import Phase, Task, TaskGraph, TaskList
from specflow.engine.scheduler import Scheduler, lower_bound


def graph(*specs: tuple[str, list[str], list[str]]) -> TaskGraph:
    tasks = [Task(id=i, title=i, depends=d, files=f) for i, d, f in specs]
    return TaskGraph(TaskList(title="t", phases=[Phase(title="p", tasks=tasks)]))


def test_longest_remaining_path_first() -> None:
    g = graph(
        ("T001", [], []),
        ("T002", [], []),
        ("T003", ["T002"], []),
        ("T004", ["T003"], []),
    )
    s = Scheduler(g, g.order(), set())
    assert s.take(1) == ["T002"]  # heads a chain of three
    assert s.take(5) == ["T001"]


def test_shared_files_never_run_together() -> None:
    g = graph(("T001", [], ["a.py"]), ("T002", [], ["./a.py"]), ("T003", [], ["b.py"]))
    s = Scheduler(g, g.order(), set())
    started = s.take(3)
    assert "T003" in started and len({"T001", "T002"} & set(started)) == 1
    first = next(t for t in started if t != "T003")
    assert s.take(3) == []
    s.merged_task(first)
    assert s.take(3) == [{"T001": "T002", "T002": "T001"}[first]]


def test_failure_blocks_only_descendants() -> None:
    g = graph(
        ("T001", [], []),
        ("T002", ["T001"], []),
        ("T003", ["T002"], []),
        ("T004", [], []),
    )
    s = Scheduler(g, g.order(), set())
    assert set(s.take(4)) == {"T001", "T004"}
    assert s.failed_task("T001") == ["T002", "T003"]
    s.merged_task("T004")
    assert s.take(4) == []
    assert s.is_idle()
    assert s.blocked == {"T002": "T001", "T003": "T001"}


def test_done_tasks_satisfy_dependencies() -> None:
    g = graph(("T001", [], []), ("T002", ["T001"], []))
    s = Scheduler(g, ["T002"], {"T001"})
    assert s.take(2) == ["T002"]


def test_lower_bound() -> None:
    g = graph(("T001", [], []), ("T002", ["T001"], []), ("T003", [], []), ("T004", [], []))
    w = {"T001": 1.0, "T002": 1.0, "T003": 1.0, "T004": 1.0}
    assert lower_bound(g, g.order(), w, 4) == 2.0  # the chain
    assert lower_bound(g, g.order(), w, 1) == 4.0  # total work
