"""Spec Kit's dependency reading and the TaskGraph built on it."""

from __future__ import annotations

import itertools

import pytest

from specflow.domain.tasks import Phase, Task, TaskGraph, TaskList, implicit_dependencies
from specflow.errors import ParseError


def _t(
    tid: str, parallel: bool = False, depends: list[str] | None = None, line: int | None = None
) -> Task:
    return Task(id=tid, title=f"task {tid}", parallel=parallel, depends=depends, line=line)


def _tl(*phases: list[Task]) -> TaskList:
    return TaskList(
        title="X", phases=[Phase(title=f"Phase {i}", tasks=p) for i, p in enumerate(phases, 1)]
    )


def test_sequential_tasks_form_a_chain() -> None:
    deps = implicit_dependencies(_tl([_t("T001"), _t("T002"), _t("T003")]))
    assert deps == {"T001": [], "T002": ["T001"], "T003": ["T002"]}


def test_parallel_tasks_wait_for_the_previous_sequential_task_only() -> None:
    deps = implicit_dependencies(
        _tl([_t("T001"), _t("T002", True), _t("T003", True), _t("T004"), _t("T005", True)])
    )
    assert deps == {
        "T001": [],
        "T002": ["T001"],
        "T003": ["T001"],
        "T004": ["T001", "T002", "T003"],
        "T005": ["T004"],
    }


def test_parallel_tasks_at_the_start_of_a_phase() -> None:
    deps = implicit_dependencies(
        _tl([_t("T001", True), _t("T002", True)], [_t("T003", True), _t("T004")])
    )
    assert deps == {
        "T001": [],
        "T002": [],
        "T003": ["T001", "T002"],
        "T004": ["T001", "T002", "T003"],
    }


def test_phases_run_in_order_and_empty_phases_are_skipped() -> None:
    deps = implicit_dependencies(_tl([_t("T001"), _t("T002", True)], [], [_t("T003", True)]))
    assert deps["T003"] == ["T001", "T002"]


def test_explicit_depends_override_the_reading() -> None:
    tl = _tl(
        [_t("T001"), _t("T002")], [_t("T003", depends=[]), _t("T004", depends=["T001"]), _t("T005")]
    )
    deps = implicit_dependencies(tl)
    assert deps["T003"] == []
    assert deps["T004"] == ["T001"]
    # the next sequential task still waits for the ones before it in its phase
    assert deps["T005"] == ["T004"]
    g = TaskGraph(tl)
    assert g.ancestors("T005") == {"T001", "T004"}
    assert g.descendants("T001") == {"T002", "T004", "T005"}


def test_order_waves_and_critical_path() -> None:
    tl = _tl(
        [_t("T001")],
        [_t("T002", True), _t("T003", True), _t("T004", True)],
        [
            _t("T005", True, depends=["T002"]),
            _t("T006", True, depends=["T003"]),
            _t("T007", depends=["T006"]),
        ],
    )
    g = TaskGraph(tl)
    order = g.order()
    for tid, ds in g.deps.items():
        assert all(order.index(d) < order.index(tid) for d in ds)
    assert g.waves() == [["T001"], ["T002", "T003", "T004"], ["T005", "T006"], ["T007"]]
    assert g.waves(only={"T004", "T007"}) == [["T004"], ["T007"]]
    assert g.critical_path() == ["T001", "T003", "T006", "T007"]
    # heavier weights move the critical path
    assert g.critical_path({"T005": 10.0}) == ["T001", "T002", "T005"]
    assert g.remaining_path()["T001"] == 4.0


def test_empty_graph() -> None:
    g = TaskGraph(TaskList(title="X"))
    assert g.order() == [] and g.waves() == [] and g.critical_path() == []


def test_uncovered_requirements() -> None:
    tl = _tl(
        [
            Task(id="T001", title="a", covers=["FR-001"]),
            Task(id="T002", title="b", covers=["FR-003"]),
        ]
    )
    assert TaskGraph(tl).uncovered(["FR-001", "FR-002", "FR-003", "FR-004"]) == ["FR-002", "FR-004"]


def test_cycle_message_names_the_cycle_and_a_line() -> None:
    tl = _tl(
        [
            _t("T001", depends=[], line=5),
            _t("T002", depends=["T004"], line=6),
            _t("T003", depends=["T002"], line=7),
            _t("T004", depends=["T003"], line=8),
        ]
    )
    with pytest.raises(ParseError) as err:
        TaskGraph(tl, path="tasks.md")
    msg = err.value.message
    assert msg.startswith("tasks.md:")
    assert "dependency cycle:" in msg
    cycle = msg.split("dependency cycle: ", 1)[1].split(" -> ")
    assert cycle[0] == cycle[-1] and sorted(cycle[:-1]) == ["T002", "T003", "T004"]
    # "A -> B" means A comes before B: B depends on A
    depends = {t.id: t.depends for t in tl.all_tasks()}
    for a, b in itertools.pairwise(cycle):
        assert a in (depends[b] or [])
    assert cycle[0] == "T002" and err.value.line == 6  # from the cycle's first task
    assert err.value.hint


def test_self_dependency() -> None:
    with pytest.raises(ParseError, match="depends on itself"):
        TaskGraph(_tl([_t("T001", depends=["T001"], line=3)]))


def test_duplicate_and_unknown() -> None:
    with pytest.raises(ParseError, match="duplicate task id T001") as err:
        TaskGraph(_tl([_t("T001", line=3)], [_t("T001", line=9)]))
    assert err.value.line == 9
    with pytest.raises(ParseError, match="unknown task T042") as err:
        TaskGraph(_tl([_t("T001", depends=["T042"], line=4)]))
    assert err.value.line == 4
