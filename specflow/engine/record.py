"""The end of a run: its summary, the compact record committed on the integration branch
(`specs/<feature>/runs/<run-id>.json`), and the error that reports failed or blocked tasks."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from specflow.domain.usage import USAGE_KEYS
from specflow.errors import RunFailed
from specflow.runs.events import EventLog
from specflow.runs.state import TaskRecord


@dataclass
class RunSummary:
    run_id: str
    feature: str
    records: dict[str, TaskRecord]
    not_run: list[str] = field(default_factory=list)
    record_path: str | None = None
    ran: int = 0  # tasks merged by this run (0: there was nothing left to do)

    def to_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id,
            "feature": self.feature,
            "tasks": {t: r.to_dict() for t, r in sorted(self.records.items())},
            "not_run": self.not_run,
            "record": self.record_path,
        }

    def count(self, status: str) -> int:
        return sum(1 for r in self.records.values() if r.status == status)


def write_record(
    ld: Any,
    merge: Any,
    summary: RunSummary,
    agent: str,
    parallel: int,
    events: EventLog,
    *,
    model: str | None = None,
) -> str | None:
    from specflow.workspace.integration import commit_file

    tasks = {t: summary.records[t].to_dict() for t in ld.graph.order() if t in summary.records}
    record = {
        "run": summary.run_id,
        "feature": summary.feature,
        "agent": agent,
        "parallel": parallel,
        "model": _model_label(model),
        "status": "ok"
        if all(r["status"] == "merged" for r in tasks.values()) and not summary.not_run
        else "failed",
        "tasks": tasks,
        "not_run": summary.not_run,
        "usage": {
            k: round(sum(r.usage[k] for r in summary.records.values()), 6) for k in USAGE_KEYS
        },
    }
    rel = (
        (ld.feature.runs_dir / f"{summary.run_id}.json")
        .resolve()
        .relative_to(ld.repo_root.resolve())
    )
    text = json.dumps(record, indent=2) + "\n"
    try:
        with merge.lock:
            commit_file(
                ld.git, ld.ref, rel.as_posix(), text, f"specflow: run record {summary.run_id}\n"
            )
    except Exception as exc:
        events.emit("warning", message=f"could not commit the run record: {exc}")
        return None
    return rel.as_posix()


def raise_if_failed(summary: RunSummary) -> None:
    failed = sorted(t for t, r in summary.records.items() if r.status == "failed")
    blocked = sorted(t for t, r in summary.records.items() if r.status == "blocked")
    if not failed and not blocked and not summary.not_run:
        return
    parts = []
    if failed:
        parts.append(f"{len(failed)} failed ({', '.join(failed)})")
    if blocked:
        parts.append(f"{len(blocked)} blocked ({', '.join(blocked)})")
    if summary.not_run:
        parts.append(f"{len(summary.not_run)} not run")
    err = RunFailed(
        f"run {summary.run_id}: {summary.count('merged')} merged, " + ", ".join(parts),
        f"see 'specflow log {summary.run_id}'; fix and run 'specflow implement {summary.feature} --resume'",
    )
    err.summary = summary  # type: ignore[attr-defined]  # for `--json` at the CLI boundary
    raise err


def _model_label(model: str | None) -> str | None:
    """The run's model as recorded in git: a replay recording by file name, never a local path."""
    if model and model.startswith("replay:"):
        return "replay:" + model.rsplit("/", 1)[-1]
    return model
