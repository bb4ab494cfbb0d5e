"""The linter inside `specflow check`: findings as check problems, warnings by default.

`[lint] check = "warn"` (the default) reports findings without failing the gate, so specs
written before the linter existed do not turn CI red overnight; `"error"` or `check --strict`
makes them fail; `"off"` leaves them out. Info-level findings never appear in check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from specflow.lint.checks import Finding, lint_text
from specflow.lint.run import read_spec, settings_for
from specflow.project import Feature, Project


@dataclass
class LintProblem:
    """Shaped like check's own problems (path, line, message, code, severity)."""

    path: str
    line: int | None
    message: str
    code: str
    severity: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# memo(key text, settings, compute): the findings as dicts, remembered by the caller
Memo = Callable[[str, Any, Callable[[], list[dict[str, Any]]]], list[dict[str, Any]]]


def feature_linter(
    project: Project, *, strict: bool = False, memo: Memo | None = None
) -> Callable[[Feature], list[LintProblem]]:
    """The lint problems of one feature's spec, under the project's settings (read once)."""
    mode = project.config.lint.check
    if mode == "off":
        return lambda feature: []
    failing = strict or mode == "error"
    settings = settings_for(project)
    if strict:
        settings.disabled.add("open-clarification")  # check --strict reports them itself

    def lint(feature: Feature) -> list[LintProblem]:
        spec = feature.artifact("spec")
        if not spec.is_file():
            return []
        rel = spec.relative_to(project.root).as_posix()
        text = read_spec(spec)

        def compute() -> list[dict[str, Any]]:
            return [asdict(f) for f in lint_text(text, rel, settings)]

        rows = memo(f"{rel}\0{text}", settings, compute) if memo else compute()
        return [
            LintProblem(
                path=f.path,
                line=f.line,
                message=f"{f.message} ({f.hint}) [lint {f.rule}]",
                code=f"lint/{f.rule}",
                severity="error" if failing else "warning",
            )
            for f in (Finding(**row) for row in rows)
            if f.severity != "info"
        ]

    return lint
