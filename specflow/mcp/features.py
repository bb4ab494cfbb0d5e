"""The read-only and generation tools: features, status, artifacts, stages, run logs."""

from __future__ import annotations

from typing import Any

from specflow.artifacts import ArtifactStore
from specflow.errors import InputError
from specflow.project import Feature, Project

ARTIFACT_KINDS = ("spec", "plan", "tasks", "feature", "constitution")
STAGES = ("specify", "plan", "tasks")
URI_PREFIX = "specflow://features/"
CONSTITUTION_URI = "specflow://constitution"
MAX_LOG_CHARS = 40_000


def list_features(project: Project) -> list[dict[str, Any]]:
    from specflow.stages.status import feature_status

    out = []
    for f in project.features():
        st = feature_status(project, f)
        out.append(
            {
                "feature": f.name,
                "number": f.number,
                "slug": f.slug,
                "artifacts": {a.kind: a.state for a in st.artifacts},
                "tasks_total": st.tasks_total,
                "tasks_done": st.tasks_done,
                "open_questions": st.open_questions,
                **({"error": st.error} if st.error else {}),
            }
        )
    return out


def artifact_status(project: Project, feature: Feature) -> dict[str, Any]:
    from specflow.stages.status import feature_status

    return feature_status(project, feature).to_dict()


def read_artifact(project: Project, feature: str | None, kind: str) -> dict[str, Any]:
    kind = kind.strip().lower().removesuffix(".md")
    if kind not in ARTIFACT_KINDS:
        raise InputError(
            f"unknown artifact kind '{kind}'", f"use one of {', '.join(ARTIFACT_KINDS)}"
        )
    if kind == "constitution":
        path = project.constitution_path
        if not path.is_file():
            raise InputError("the project has no constitution", "run 'specflow init' to add one")
        return {"kind": kind, "path": _rel(project, path), "text": path.read_text(encoding="utf-8")}
    feat = project.resolve_feature(feature)
    if kind == "feature":
        path = feat.path / "feature.md"
        if not path.is_file():
            raise InputError(f"{feat.name} has no feature.md", "it was not made by 'specify'")
        text = path.read_text(encoding="utf-8")
        return {"feature": feat.name, "kind": kind, "path": _rel(project, path), "text": text}
    art = ArtifactStore(project, feat).read(kind)
    if not art.exists:
        stage = {"spec": "specify", "plan": "plan", "tasks": "tasks"}[kind]
        raise InputError(
            f"{feat.name} has no {kind}.md yet", f"generate it with run_stage(stage={stage!r})"
        )
    return {
        "feature": feat.name,
        "kind": kind,
        "path": _rel(project, art.path),
        "state": art.state,
        "version": art.version,
        "changed_inputs": art.changed_inputs,
        "model": art.provenance.model if art.provenance else None,
        "text": art.body,
    }


def run_stage(
    project: Project,
    stage: str,
    feature: str | None,
    feature_text: str | None,
    *,
    force: bool = False,
) -> dict[str, Any]:
    """specify (new feature from text, or regenerate from feature.md), plan or tasks; the model
    comes from the configuration ([models] / SPECFLOW_MODEL), as on the command line."""
    from specflow.stages import pipeline

    stage = stage.strip().lower()
    if stage not in STAGES:
        raise InputError(f"unknown stage '{stage}'", f"use one of {', '.join(STAGES)}")
    if stage == "specify" and feature_text:
        out = pipeline.specify(project, feature_text, source="feature_text")
    elif stage == "specify":
        if not feature:
            raise InputError("specify needs feature_text", "pass the feature description")
        out = pipeline.respecify(project, project.resolve_feature(feature), force=force)
    else:
        if feature_text:
            raise InputError(f"{stage} takes no feature_text", "pass only the feature")
        fn = pipeline.plan if stage == "plan" else pipeline.tasks
        out = fn(project, project.resolve_feature(feature), force=force)
    art = out.artifact
    return {
        "feature": out.feature.name,
        "artifact": art.kind,
        "path": _rel(project, art.path),
        "version": art.version,
        "state": art.state,
        "skipped": out.skipped,
        "model": out.model or None,
        "cost_usd": round(out.usage.cost_usd, 6) if out.usage else 0.0,
        "uri": artifact_uri(out.feature.name, art.kind),
        # plan: failing constitution gates without a justification (the plan is written)
        "violations": out.violations,
    }


def run_log(
    project: Project, run: str | None, task: str | None, feature: str | None
) -> dict[str, Any]:
    from specflow.observe.log import render_log
    from specflow.runs.state import find_run

    feat = project.resolve_feature(feature).name if feature else None
    run_id, _ = find_run(project.state_dir, feat, run)
    text = "\n".join(render_log(project.state_dir, run_id, task=task))
    if len(text) > MAX_LOG_CHARS:
        text = f"… ({len(text) - MAX_LOG_CHARS} earlier characters)\n" + text[-MAX_LOG_CHARS:]
    return {"run": run_id, "task": task, "log": text}


# -- resources ---------------------------------------------------------------------------------


def artifact_uri(feature: str, kind: str) -> str:
    return f"{URI_PREFIX}{feature}/{kind}"


def list_artifact_resources(project: Project) -> list[tuple[str, str, str]]:
    """(uri, name, description) of every artifact on disk."""
    out: list[tuple[str, str, str]] = []  # the constitution is a static resource
    for f in project.features():
        for kind in ("feature", "spec", "plan", "tasks"):
            if (f.path / f"{kind}.md").is_file():
                out.append(
                    (artifact_uri(f.name, kind), f"{f.name}/{kind}.md", f"{kind}.md of {f.name}")
                )
    return out


def read_resource_text(project: Project, feature: str, kind: str) -> str:
    if kind == "constitution":
        return str(read_artifact(project, None, kind)["text"])
    feat = project.resolve_feature(feature)
    if feat.name != feature:
        raise InputError(f"no feature '{feature}'", f"use the folder name, e.g. {feat.name}")
    path = feat.path / f"{kind}.md"
    if kind not in ARTIFACT_KINDS or not path.is_file():
        raise InputError(f"{feature} has no {kind}.md")
    return path.read_text(encoding="utf-8")


def _rel(project: Project, path: Any) -> str:
    try:
        return str(path.relative_to(project.root))
    except ValueError:
        return str(path)
