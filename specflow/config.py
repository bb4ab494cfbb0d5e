"""Project configuration: `specflow.toml`, or `[tool.specflow]` in `pyproject.toml`."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from specflow.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

CONFIG_NAME = "specflow.toml"
STAGES = ("specify", "clarify", "plan", "tasks", "implement", "review")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProjectSection(_Strict):
    name: str = ""
    specs_dir: str = "specs"
    base_branch: str | None = None
    test_command: str | None = None


class ModelsSection(_Strict):
    default: str | None = None
    specify: str | None = None
    clarify: str | None = None
    plan: str | None = None
    tasks: str | None = None
    implement: str | None = None
    review: str | None = None
    escalate: str | None = None


class LLMSection(_Strict):
    max_retries: int = Field(default=4, ge=0, le=20)
    timeout_s: float = Field(default=120.0, gt=0)
    backoff_base_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    temperature: float | None = None


class ContextSection(_Strict):
    repo_map_max_chars: int = Field(default=6000, ge=0)
    repo_map_max_files: int = Field(default=400, ge=0)


class ImplementSection(_Strict):
    parallel: int = Field(default=4, ge=1, le=256)
    agent: str = "builtin"
    max_steps: int = Field(default=40, ge=1)
    max_seconds: float = Field(default=900.0, gt=0)
    max_cost_usd: float | None = Field(default=None, ge=0)
    verify_retries: int = Field(default=2, ge=0)
    conflict_retries: int = Field(default=2, ge=0)
    verify_timeout_s: float = Field(default=600.0, gt=0)
    review_retries: int = Field(
        default=1, ge=0, description="changes a reviewer may request before the task fails"
    )
    gate_depth: int | None = Field(
        default=None,
        ge=1,
        le=256,
        description="changes the merge gate verifies at once (default: as many as the cores "
        "can run by the CPU the checks use, at most --parallel)",
    )


GATES = ("verify", "review", "approve")


def _check_gates(value: str) -> str:
    parts = [p.strip() for p in value.split("+") if p.strip()]
    unknown = [p for p in parts if p not in GATES]
    if unknown or "verify" not in parts:
        raise ValueError(
            f"'{value}': gates are verify, review, approve joined by '+', verify always included"
        )
    return "+".join(g for g in GATES if g in parts)


class PolicySection(_Strict):
    """`[policy]`: what must pass before a task of each risk merges (docs/trust.md)."""

    low: str = "verify"
    medium: str = "verify"
    high: str = "verify+approve"
    # Off by default at implement time: a hand-written or imported task list without `risk:`
    # must not start waiting for approvals it never asked for. The tasks stage writes an
    # explicit (inferred) `risk:` on every task it generates, where a reviewer can see it.
    infer_risk: bool = Field(
        default=False, description="tasks without `risk:` get one from the files they name"
    )

    @field_validator("low", "medium", "high")
    @classmethod
    def _gates(cls, value: str) -> str:
        return _check_gates(value)

    def gates(self, risk: str) -> set[str]:
        return set(str(getattr(self, risk, self.medium)).split("+"))


class ReviewSection(_Strict):
    """`[review]`: the reviewer model's inputs."""

    max_diff_chars: int = Field(default=60_000, ge=1000)
    max_spec_chars: int = Field(default=40_000, ge=1000)


class BudgetSection(_Strict):
    """`[budget]`: default `--max-cost` for `specflow implement` (USD; none = no limit)."""

    max_cost_usd: float | None = Field(default=None, gt=0)


class LibrarySection(_Strict):
    """`[libraries.NAME]`: a shared spec library pinned by commit (or content hash)."""

    source: str = Field(description="git URL, path to a git repository, or a plain folder")
    commit: str | None = Field(
        default=None, description="pinned git commit, or 'sha256:…' for a plain folder"
    )
    ref: str | None = Field(default=None, description="what 'library update' follows")
    templates: bool = Field(default=True, description="use the library's templates/")


class TelemetrySection(_Strict):
    """`[telemetry]`: export run spans through OpenTelemetry (extra `specflow-sdd[otel]`)."""

    enabled: bool = False
    exporter: Literal["otlp", "console"] = "otlp"
    endpoint: str | None = Field(default=None, description="OTLP endpoint; default: the SDK's")
    service_name: str = "specflow"


class RaySection(_Strict):
    """`[ray]`: `implement --executor ray` (extra `specflow-sdd[ray]`; docs/ray.md)."""

    address: str | None = Field(
        default=None,
        description="cluster address ('HEAD:6379', 'auto'); default: RAY_ADDRESS, else a "
        "one-machine Ray started for the run",
    )
    remote: str | None = Field(
        default=None,
        description="git remote every node can reach (bare repository path or URL); "
        "default with a one-machine Ray: this repository",
    )
    agent_slots_per_node: int = Field(
        default=4,
        ge=1,
        le=256,
        description="agents of a one-machine Ray; cluster nodes offer theirs with "
        "ray start --resources='{\"agent\": N}'",
    )


class SandboxSection(_Strict):
    """`[sandbox]`: how agents' commands, checks and (optionally) `cmd:` agents are confined
    (docs/security.md)."""

    mode: Literal["auto", "bwrap", "landlock", "off"] = Field(
        default="auto",
        description="auto = bubblewrap, else Landlock, else refuse to run; off = unconfined",
    )
    network: bool = Field(default=False, description="let confined commands use the network")
    cmd_agents: bool = Field(default=False, description="run `cmd:` agents confined too")
    max_processes: int = Field(default=512, ge=8, description="processes per command")
    memory_mb: int = Field(default=4096, ge=64, description="memory per command")
    max_file_mb: int = Field(default=1024, ge=1, description="largest file a command may write")
    pass_env: list[str] = Field(
        default_factory=list, description="more environment variables to pass in"
    )
    writable: list[str] = Field(
        default_factory=list, description="more folders confined commands may write"
    )


class LintSection(_Strict):
    """`[lint]`: the spec linter (docs/lint.md)."""

    disable: list[str] = Field(default_factory=list, description="rule ids switched off")
    severity: dict[str, Literal["error", "warning", "info"]] = Field(
        default_factory=dict, description="rule id -> severity"
    )
    check: Literal["warn", "error", "off"] = Field(
        default="warn",
        description="lint findings inside `specflow check`: warnings, errors (fail), or off",
    )
    vague_words: list[str] = Field(default_factory=list, description="more vague terms")
    technologies: list[str] = Field(default_factory=list, description="more technology names")
    allow: list[str] = Field(default_factory=list, description="terms never to flag")


class Config(_Strict):
    project: ProjectSection = ProjectSection()
    models: ModelsSection = ModelsSection()
    llm: LLMSection = LLMSection()
    context: ContextSection = ContextSection()
    implement: ImplementSection = ImplementSection()
    libraries: dict[str, LibrarySection] = Field(default_factory=dict)
    telemetry: TelemetrySection = TelemetrySection()
    ray: RaySection = RaySection()
    policy: PolicySection = PolicySection()
    review: ReviewSection = ReviewSection()
    budget: BudgetSection = BudgetSection()
    sandbox: SandboxSection = SandboxSection()
    lint: LintSection = LintSection()

    def model_for(self, stage: str, override: str | None = None) -> str | None:
        """Which model a stage uses.

        Order: `--model`, `SPECFLOW_MODEL_<STAGE>`, `[models].<stage>`, `SPECFLOW_MODEL`,
        `[models].default`. Per-stage config beats the global variable so that routing
        (frontier for plan, cheap for implement) survives a user exporting SPECFLOW_MODEL.
        """
        if override:
            return override
        env_stage = os.environ.get(f"SPECFLOW_MODEL_{stage.upper()}")
        if env_stage:
            return env_stage
        configured = getattr(self.models, stage, None)
        if configured:
            return str(configured)
        return os.environ.get("SPECFLOW_MODEL") or self.models.default


def _format_validation_error(path: Path, err: ValidationError) -> str:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first["loc"])
    kind = first["type"]
    if kind == "extra_forbidden":
        return f"{path.name}: unknown setting '{loc}'"
    return f"{path.name}: '{loc}': {first['msg']}"


def parse_config(text: str, path: Path, *, in_pyproject: bool = False) -> Config:
    try:
        data: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: invalid TOML: {exc}", f"fix the syntax in {path.name}"
        ) from None
    if in_pyproject:
        data = data.get("tool", {}).get("specflow", {})
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(
            _format_validation_error(path, exc), "see docs/configuration.md for the settings"
        ) from None


def find_project_root(start: Path) -> Path | None:
    """The nearest folder at or above `start` with specflow.toml or [tool.specflow]."""
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "[tool.specflow" in pyproject.read_text(errors="replace"):
            return folder
    return None


def load_config(root: Path) -> Config:
    from specflow.fsutil import read_text_input

    path = root / CONFIG_NAME
    if path.is_file():
        return parse_config(read_text_input(path, "save specflow.toml as UTF-8"), path)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        text = read_text_input(pyproject, "save pyproject.toml as UTF-8")
        return parse_config(text, pyproject, in_pyproject=True)
    return Config()
