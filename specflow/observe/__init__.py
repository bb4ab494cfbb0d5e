"""Looking at runs after the fact: trace, why, the HTML report, replay, OpenTelemetry export.

Everything here reads what `implement` recorded (`.specflow/runs/<run>/events.jsonl`, the
per-attempt agent transcripts and verify logs, git) and never changes a run.
"""
