"""`specflow import`: other tools' specs -> specflow features under `specs/NNN-slug/`.

One module per format reads SOURCE into `ImportedFeature`s held in memory; this module picks
the format, checks that every generated artifact parses (and every task list is an acyclic
graph), gives the features the next free numbers, and writes them all at once: into a hidden
temporary folder under `specs/`, then one rename per feature. On any error nothing is left.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from specflow.errors import InputError, SpecflowError
from specflow.importers.model import ImportedFeature, ImportPlan
from specflow.project import Project

FORMATS = ("speckit", "kiro", "openspec", "taskmaster")


def detect_format(source: Path, project: Project | None = None) -> str:
    """The one format SOURCE's layout shows; several or none is an error naming them."""
    from specflow.importers import kiro, openspec, speckit, taskmaster

    found: list[str] = []
    if source.is_file():
        if source.suffix == ".json":
            taskmaster.read_tags(source, source.name)  # another tool's JSON is refused here
            return "taskmaster"
        raise InputError(f"{source}: cannot tell the format of a single file", _FORMAT_HINT)
    if ".specify" in source.parts or (source / ".specify").is_dir():
        found.append("speckit")
    elif speckit.find_features(source):
        own = project.specs_dir.resolve() if project is not None else None
        feats = speckit.find_features(source)
        if own is None or feats[0].parent.resolve() != own:
            found.append("speckit")
    one_spec = (source / "requirements.md").is_file() and kiro.find_specs(source) == [source]
    if (source / ".kiro").is_dir() or ".kiro" in source.parts or one_spec:
        found.append("kiro")
    if openspec.find_root(source) is not None or (source / "proposal.md").is_file():
        found.append("openspec")
    refusal = _taskmaster_shape(source)
    if refusal is None:
        found.append("taskmaster")
    if len(found) == 1:
        return found[0]
    if not found and isinstance(refusal, InputError):
        raise refusal
    if not found:
        raise InputError(
            f"found no Spec Kit, Kiro, OpenSpec or Task Master files in {source}", _FORMAT_HINT
        )
    raise InputError(
        f"{source} holds several formats: {', '.join(found)}", "choose one with --format"
    )


def _taskmaster_shape(source: Path) -> InputError | bool | None:
    """None: SOURCE holds a Task Master tasks.json; the refusal when a tasks.json there has
    another shape; False when there is none."""
    from specflow.importers import taskmaster

    at_path = any((source / rel).is_file() for rel in taskmaster.CANDIDATES[:2])
    path = taskmaster.find_tasks_json(source)
    if path is None or not (at_path or ".taskmaster" in source.parts):
        return False
    try:
        taskmaster.read_tags(path, path.relative_to(source).as_posix())
    except InputError as exc:
        return exc
    return None


_FORMAT_HINT = "point at the project folder, or name the format with --format " + "|".join(FORMATS)


def plan_import(project: Project, source: Path, fmt: str | None = None) -> ImportPlan:
    """Read SOURCE and prepare every feature (numbers included) without writing anything."""
    from specflow.importers import kiro, openspec, speckit, taskmaster

    source = source.expanduser()
    if not source.exists():
        raise InputError(f"{source}: no such file or folder", "check the path")
    source = source.resolve()
    if fmt is not None and fmt not in FORMATS:
        raise InputError(f"unknown format '{fmt}'", f"choose one of: {', '.join(FORMATS)}")
    fmt = fmt or detect_format(source, project)
    plan = ImportPlan(format=fmt, source=str(source))
    try:
        if fmt == "speckit":
            plan.features = speckit.import_speckit(source, project.specs_dir)
            constitution = speckit.find_constitution(source)
            if constitution is not None and _constitution_free(project):
                plan.constitution = constitution.read_bytes()
                plan.constitution_source = constitution.relative_to(source).as_posix()
        elif fmt == "kiro":
            plan.features = kiro.import_kiro(source)
        elif fmt == "openspec":
            from specflow.importers.openspec_changes import project_capabilities

            found, plan.notes = openspec.import_openspec(source, project_capabilities(project))
            plan.features = [f for f in found if not f.existing]
            plan.additions = [f for f in found if f.existing]
        else:
            plan.features, plan.notes = taskmaster.import_taskmaster(source)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            f"cannot read {source}: {exc}", "check the files' permissions and encoding"
        ) from None
    for feature in plan.features:
        if feature.converted:
            _validate(feature)
    _number(project, plan)
    from specflow.formats.change_md import archived

    for target in _addition_targets(project, plan):
        applied = archived(target.parent, target.name)
        if target.exists() or applied:
            shown = project.rel(applied[-1] if applied else target)
            raise InputError(
                f"{shown} exists already",
                "nothing was written; remove or rename it to import the change again",
            )
    return plan


def _addition_targets(project: Project, plan: ImportPlan) -> list[Path]:
    """The change folders an import adds to existing features (`changes/<name>/`)."""
    from specflow.formats.change_md import CHANGES

    return [project.root / f.folder / CHANGES / name for f in plan.additions for name in f.changes]


def run_import(
    project: Project, source: Path, fmt: str | None = None, *, dry_run: bool = False
) -> ImportPlan:
    plan = plan_import(project, source, fmt)
    plan.dry_run = dry_run
    if not dry_run:
        _write(project, plan)
    return plan


def _validate(feature: ImportedFeature) -> None:
    """Every converted artifact must read back; a failure is a bug in the importer."""
    from specflow.formats import parse_artifact

    for name in ("spec.md", "plan.md", "tasks.md"):
        text = feature.text(name)
        if text is None:
            continue
        try:
            parse_artifact(name.removesuffix(".md"), text, f"{feature.slug}/{name}")
        except SpecflowError as exc:
            raise InputError(
                f"internal import error: the {name} made from {feature.source} does not parse: "
                f"{exc.message}",
                "report this with the source files",
            ) from None


def _number(project: Project, plan: ImportPlan) -> None:
    existing = {f.slug: f.name for f in project.features()}
    clashes = [f"{f.slug} ({existing[f.slug]})" for f in plan.features if f.slug in existing]
    if clashes:
        raise InputError(
            f"features with these names exist already: {', '.join(clashes)}",
            "nothing was written; remove or rename them to import again",
        )
    seen: dict[str, int] = {}
    for f in plan.features:  # two sources with one name (two tags, a change and a capability)
        seen[f.slug] = seen.get(f.slug, 0) + 1
        if seen[f.slug] > 1:
            f.slug = f"{f.slug}-{seen[f.slug]}"
    number = project.next_number()
    specs = os.path.relpath(project.specs_dir, project.root)
    for f in plan.features:
        f.folder = f"{specs}/{number:03d}-{f.slug}"
        number += 1


def _constitution_free(project: Project) -> bool:
    """No constitution yet, or only the template `specflow init` put there."""
    path = project.constitution_path
    if not path.is_file():
        return True
    from specflow.resources import builtin_templates_dir

    template = builtin_templates_dir() / "init" / "constitution.md"
    return template.is_file() and path.read_bytes() == template.read_bytes()


def _write(project: Project, plan: ImportPlan) -> None:
    specs = project.specs_dir
    specs.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".import-", dir=specs))
    placed: list[Path] = []
    try:
        for f in plan.features:
            folder = tmp / Path(f.folder).name
            for rel, data in f.files.items():
                target = folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        if plan.constitution is not None:
            (tmp / "constitution.md").write_bytes(plan.constitution)
        for f in plan.additions:  # changes/<name>/ for features that exist
            for rel, data in f.files.items():
                target = tmp / ".additions" / f.folder / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        for f in plan.features:
            final = project.root / f.folder
            if final.exists():
                raise InputError(f"{f.folder} appeared while importing", "run the import again")
            os.rename(tmp / final.name, final)
            placed.append(final)
        for final in _addition_targets(project, plan):
            if final.exists():
                raise InputError(f"{project.rel(final)} appeared while importing", "run it again")
            final.parent.mkdir(exist_ok=True)
            os.rename(tmp / ".additions" / project.rel(final), final)
            placed.append(final)
        if plan.constitution is not None:
            os.replace(tmp / "constitution.md", project.constitution_path)
            plan.constitution_written = True
    except BaseException:
        for path in placed:
            shutil.rmtree(path, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


__all__ = ["FORMATS", "ImportPlan", "ImportedFeature", "detect_format", "plan_import", "run_import"]
