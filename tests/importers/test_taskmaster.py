"""Task Master tasks.json files written for these tests (quirks of real ones: docs/importing.md),
and edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.domain.tasks import TaskGraph
from specflow.errors import SpecflowError
from specflow.formats import parse_artifact
from specflow.importers.taskmaster import import_taskmaster
from tests.importers.conftest import FIXTURES

TASKMASTER = FIXTURES / "taskmaster"
SAMPLES = sorted(p for p in TASKMASTER.iterdir() if p.is_dir())


def _json(sample: Path) -> Path:
    found = [p for p in (sample / ".taskmaster/tasks/tasks.json", sample / "tasks/tasks.json")]
    return next(p for p in found if p.is_file())


def test_there_are_enough_samples() -> None:
    assert len(SAMPLES) >= 4


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_every_task_subtask_status_and_dependency_is_kept(sample: Path) -> None:
    data = json.loads(_json(sample).read_text(encoding="utf-8"))
    tags = {"master": data} if isinstance(data.get("tasks"), list) else data
    features, _ = import_taskmaster(sample)
    assert len(features) == len(tags)
    for feature, (tag, body) in zip(features, tags.items()):
        assert feature.source.endswith(f"#{tag}")
        _check(feature, body["tasks"])


def _check(feature, items: list[dict]) -> None:  # type: ignore[no-untyped-def,type-arg]
    graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
    keys: list[str] = []

    def walk(t: dict, prefix: str) -> None:  # type: ignore[type-arg]
        sid = str(t["id"])
        key = sid if not prefix or "." in sid else f"{prefix}.{sid}"
        keys.append(key)
        for s in t.get("subtasks") or []:
            walk(s, key)

    for t in items:
        walk(t, "")
    assert list(feature.id_map) == keys and len(graph.tasks) == len(keys)
    assert len(graph.order()) == len(keys)  # acyclic
    m = feature.id_map
    done = {"done", "completed"}
    for t in items:
        tid = m[str(t["id"])]
        assert graph.tasks[tid].title.endswith(f"(TM {t['id']})")
        assert graph.tasks[tid].done == (t.get("status") in done)
        for dep in t.get("dependencies") or []:
            assert m[str(dep)] in graph.deps[tid]
        for s in t.get("subtasks") or []:
            sid = m[f"{t['id']}.{s['id']}"]
            assert graph.tasks[sid].done == (s.get("status") in done)
            for dep in s.get("dependencies") or []:
                assert m.get(f"{t['id']}.{dep}", m.get(str(dep))) in graph.deps[sid]
            if not s.get("dependencies"):  # the parent's, then its own subtasks (if any)
                inherited = [m[str(d)] for d in t.get("dependencies") or []]
                assert graph.deps[sid][: len(inherited)] == inherited
            assert sid in graph.ancestors(tid)  # a parent is finished by its subtasks
    first = items[0]
    if first.get("details"):
        assert first["details"].splitlines()[0].strip() in feature.text("plan.md")
    if first.get("testStrategy"):
        assert first["testStrategy"].split("\n")[0][:60] in feature.text("tasks.md")


def test_tags_dotted_dependencies_statuses_and_bad_references(tmp_path: Path) -> None:
    data = {
        "master": {"tasks": [{"id": 1, "title": "Base", "status": "done", "dependencies": []}]},
        "feature-auth": {
            "tasks": [
                {
                    "id": 1,
                    "title": "Schema",
                    "status": "in-progress",
                    "dependencies": [],
                    "subtasks": [
                        {"id": 1, "title": "Tables", "status": "done", "dependencies": []},
                        {"id": 2, "title": "Indexes", "status": "pending", "dependencies": [1]},
                    ],
                },
                {
                    "id": 2,
                    "title": "API",
                    "status": "deferred",
                    "priority": "low",
                    "dependencies": ["1.2", 9],
                    "subtasks": [
                        {"id": 1, "title": "Routes", "status": "completed", "dependencies": [2]}
                    ],
                },
            ]
        },
    }
    path = tmp_path / ".taskmaster" / "tasks" / "tasks.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(data))
    features, _ = import_taskmaster(tmp_path)
    assert [f.slug for f in features] == [tmp_path.name.lower().replace("_", "-"), "feature-auth"]
    auth = features[1]
    m = auth.id_map
    graph = TaskGraph(parse_artifact("tasks", auth.text("tasks.md")))
    assert graph.deps[m["2"]][:1] == [m["1.2"]]  # "1.2" names a subtask of task 1
    assert graph.deps[m["2.1"]] == [m["1.2"]]  # no sibling 2: the parent's dependencies
    assert graph.tasks[m["2.1"]].done and not graph.tasks[m["2"]].done
    assert any("dependency 9 dropped" in w for w in auth.warnings)
    assert any("dependency 2 dropped (its own parent)" in w for w in auth.warnings)
    text = auth.text("tasks.md")
    assert "  - status: deferred" in text and "  - priority: low" in text


def test_a_dependency_cycle_is_an_error(tmp_path: Path) -> None:
    data = {
        "tasks": [
            {"id": 1, "title": "A", "status": "pending", "dependencies": [2]},
            {"id": 2, "title": "B", "status": "pending", "dependencies": [1]},
        ]
    }
    (tmp_path / "tasks.json").write_text(json.dumps(data))
    with pytest.raises(SpecflowError, match="cycle"):
        import_taskmaster(tmp_path / "tasks.json")


def _all(items: list[dict]) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for t in items:
        out += [t, *_all(t.get("subtasks") or [])]
    return out


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_no_task_and_no_done_state_is_lost(sample: Path) -> None:
    data = json.loads(_json(sample).read_text(encoding="utf-8"))
    tags = {"master": data} if isinstance(data.get("tasks"), list) else data
    features, _ = import_taskmaster(sample)
    for feature, body in zip(features, tags.values()):
        items = _all(body["tasks"])
        tasks = parse_artifact("tasks", feature.text("tasks.md")).all_tasks()
        assert len(tasks) == len(items)
        assert [t.done for t in tasks] == [i["status"] in ("done", "completed") for i in items]
        started = sum(1 for i in items if i["status"] == "in-progress")
        assert feature.text("tasks.md").count("  - status: in-progress") == started


def test_nested_subtasks_and_slug_ids() -> None:
    (feature,), _ = import_taskmaster(TASKMASTER / "slug-ids")
    m = feature.id_map
    graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
    create, update = m["sync-engine.apply.create-items"], m["sync-engine.apply.update-items"]
    assert graph.deps[update] == [create]  # a sibling by its slug
    assert {create, update} <= graph.ancestors(m["sync-engine.apply"])
    assert graph.tasks[create].title == "Create new items (TM sync-engine.apply.create-items)"


LOOKALIKE = FIXTURES / "not-taskmaster"


def test_a_look_alike_tasks_json_is_refused_naming_the_expected_shape() -> None:
    with pytest.raises(SpecflowError) as err:
        import_taskmaster(LOOKALIKE)
    message = err.value.message
    assert "not a Task Master file: unexpected keys milestones, version" in message
    assert "every task with an id, a title and a status" in (err.value.hint or "")


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ({"tasks": [{"id": "a", "title": "A", "completed": True}]}, "task a has no status"),
        ({"tasks": [{"title": "A", "status": "done"}]}, "a task without an 'id'"),
        ({"tasks": "many"}, "no 'tasks' list"),
        ({"master": {"tasks": []}, "notes": "x"}, "tag 'notes'"),
        ([1, 2], "a JSON list"),
    ],
)
def test_shapes_that_are_not_task_master(tmp_path: Path, data: object, says: str) -> None:
    path = tmp_path / "tasks" / "tasks.json"
    path.parent.mkdir()
    path.write_text(json.dumps(data))
    with pytest.raises(SpecflowError, match="not a Task Master file") as err:
        import_taskmaster(tmp_path)
    assert says in err.value.message
