"""Task Master tasks.json files from public repositories, and edge cases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from specflow.domain.tasks import TaskGraph
from specflow.errors import SpecflowError
from specflow.formats import parse_artifact
from specflow.importers.taskmaster import import_taskmaster
from tests.importers.conftest import FIXTURES

SAMPLES = {
    "tajdin": FIXTURES / "taskmaster/tajdin/.taskmaster/tasks/tasks.json",
    "scrumpoker": FIXTURES / "taskmaster/scrumpoker/tasks/tasks.json",
}


def _tasks(data: dict) -> list[dict]:  # type: ignore[type-arg]
    return data["master"]["tasks"] if "master" in data else data["tasks"]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_task_subtask_status_and_dependency_is_kept(name: str) -> None:
    path = SAMPLES[name]
    data = json.loads(path.read_text(encoding="utf-8"))
    (feature,), _ = import_taskmaster(
        path.parent.parent.parent if name == "tajdin" else path.parent.parent
    )
    items = _tasks(data)
    graph = TaskGraph(parse_artifact("tasks", feature.text("tasks.md")))
    expected = [str(t["id"]) for t in items for _ in [0]]
    keys = []
    for t in items:
        keys.append(str(t["id"]))
        keys += [f"{t['id']}.{s['id']}" for s in t.get("subtasks", [])]
    assert list(feature.id_map) == keys and len(graph.tasks) == len(keys) >= 20
    assert expected  # top-level ids are all there
    assert len(graph.order()) == len(keys)  # acyclic
    m = feature.id_map
    for t in items:
        tid = m[str(t["id"])]
        assert graph.tasks[tid].title.endswith(f"(TM {t['id']})")
        assert graph.tasks[tid].done == (t["status"] == "done")
        for dep in t["dependencies"]:
            assert m[str(dep)] in graph.deps[tid]
        subs = t.get("subtasks", [])
        for s in subs:
            sid = m[f"{t['id']}.{s['id']}"]
            assert graph.tasks[sid].done == (s["status"] == "done")
            for dep in s.get("dependencies", []):
                assert m[f"{t['id']}.{dep}"] in graph.deps[sid]
            if not s.get("dependencies"):
                assert graph.deps[sid] == [m[str(d)] for d in t["dependencies"]]
            # the parent is finished only when all its subtasks are
            assert sid in graph.ancestors(tid)
    plan = feature.text("plan.md")
    assert items[0]["details"].splitlines()[0] in plan
    assert items[0]["testStrategy"].split("\n")[0][:60] in feature.text("tasks.md")


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
