"""Linting files and features with a project's `[lint]` settings (or the defaults)."""

from __future__ import annotations

from pathlib import Path

from specflow.config import Config
from specflow.errors import ConfigError, InputError
from specflow.lint.checks import Finding, Settings, lint_text
from specflow.lint.rules import RULES
from specflow.lint.words import load_terms
from specflow.project import Project

PROJECT_WORDS = Path(".specflow") / "lint"
SPEC_NAMES = ("spec.md", "requirements.md")
SKIP = {".git", ".history", ".specflow", "node_modules", ".venv", "venv", "runs", "checklists"}


def settings_for(project: Project | None) -> Settings:
    cfg = project.config.lint if project is not None else Config().lint
    for rid in [*cfg.disable, *cfg.severity]:
        if rid not in RULES and rid != "all":
            raise ConfigError(
                f"[lint]: unknown rule '{rid}'",
                f"rules are: {', '.join(RULES)} (see 'specflow lint --rules')",
            )
    folder = project.root / PROJECT_WORDS if project is not None else None
    disabled = set(RULES) if "all" in cfg.disable else set(cfg.disable)
    return Settings(
        vague=load_terms(
            "vague-words.txt",
            folder / "vague-words.txt" if folder else None,
            cfg.vague_words,
            cfg.allow,
        ),
        technologies=load_terms(
            "technologies.txt",
            folder / "technologies.txt" if folder else None,
            cfg.technologies,
            cfg.allow,
        ),
        disabled=disabled,
        severity=dict(cfg.severity),
    )


def read_spec(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})", "pass a readable file") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{path}: looks like a binary file", "pass a Markdown spec")
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def lint_file(path: Path, settings: Settings, shown_as: str | None = None) -> list[Finding]:
    return lint_text(read_spec(path), shown_as or path.as_posix(), settings)


def resolve_targets(project: Project | None, args: list[str], cwd: Path) -> list[Path]:
    """Files to lint: the named files, the specs under named folders, named features, or —
    with no arguments — every feature of the project. Checked before anything is read."""
    if not args:
        if project is None:
            raise InputError(
                "not a specflow project and no file given",
                "pass spec.md files or folders, or run 'specflow init'",
            )
        found = [f.artifact("spec") for f in project.features()]
        return [p.resolve() for p in found if p.is_file()]
    out: list[Path] = []
    for arg in args:
        path = (cwd / arg) if not Path(arg).is_absolute() else Path(arg)
        if path.is_file():
            out.append(path.resolve())
        elif path.is_dir():
            specs = _specs_under(path)
            if not specs:
                raise InputError(f"{arg}: no spec.md or requirements.md under it", "name a file")
            out += [p.resolve() for p in specs]
        elif project is not None:
            feature = project.resolve_feature(arg)
            spec = feature.artifact("spec")
            if not spec.is_file():
                raise InputError(f"{feature.name} has no spec.md", "run 'specflow specify'")
            out.append(spec.resolve())
        else:
            raise InputError(f"{arg}: no such file or folder", "pass spec.md files or folders")
    return out


def _specs_under(folder: Path) -> list[Path]:
    found = []
    for p in sorted(folder.rglob("*.md")):
        if p.name in SPEC_NAMES and not SKIP.intersection(p.relative_to(folder).parts):
            found.append(p)
    return found


def shown(path: Path, base: Path) -> str:
    """`path` relative to `base` when it is under it, else as it is."""
    try:
        return path.relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def lint_targets(paths: list[Path], settings: Settings, base: Path) -> list[Finding]:
    """Findings with paths shown relative to `base` (where the user stands, or the
    repository root for code hosts)."""
    findings: list[Finding] = []
    for path in paths:
        findings += lint_file(path, settings, shown(path, base))
    return findings
