"""jinja2 templates for prompts and artifacts.

Built-in templates ship with the package (specflow/resources.py says where).
A project overrides any of them — prompts/*.md.j2 and artifacts/*.md.j2 alike — by putting a
file of the same name in `.specflow/templates/`; a pinned library's `templates/` folder comes
next. Every caller passes the project root, so an override applies wherever the template is
used, and `template_hashes` names (by hash) every template that shaped an artifact.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from specflow.fsutil import sha256_text
from specflow.resources import builtin_templates_dir

if TYPE_CHECKING:
    import jinja2


@lru_cache(maxsize=8)
def _environment(override_dirs: tuple[str, ...]) -> jinja2.Environment:
    import jinja2

    dirs = [*override_dirs, str(builtin_templates_dir())]
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(dirs),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def environment(project_root: Path | None = None) -> jinja2.Environment:
    """Search order: the project's `.specflow/templates/`, then each pinned library's
    `templates/` (specflow.toml order), then the built-in templates."""
    overrides: list[str] = []
    if project_root is not None:
        candidate = project_root / ".specflow" / "templates"
        if candidate.is_dir():
            overrides.append(str(candidate))
        from specflow.library.templates import library_template_dirs

        overrides += [str(d) for d in library_template_dirs(project_root) if d.is_dir()]
    return _environment(tuple(overrides))


def render(name: str, project_root: Path | None = None, /, **context: Any) -> str:
    return environment(project_root).get_template(name).render(**context)


def template_ref(name: str, project_root: Path | None = None) -> str:
    """`name@sha256:…` of the template source actually used (an override if present)."""
    env = environment(project_root)
    assert env.loader is not None
    source, _, _ = env.loader.get_source(env, name)
    return f"{Path(name).name}@{sha256_text(source)}"


def template_hashes(names: list[str], project_root: Path | None = None) -> dict[str, str]:
    """`{name: sha256:…}` of each template and every template it includes, extends or imports,
    as resolved for this project (an override's hash when one is used)."""
    import jinja2.meta

    env = environment(project_root)
    assert env.loader is not None
    out: dict[str, str] = {}
    todo = list(names)
    while todo:
        name = todo.pop(0)
        if name in out:
            continue
        source, _, _ = env.loader.get_source(env, name)
        out[name] = sha256_text(source)
        todo += [n for n in jinja2.meta.find_referenced_templates(env.parse(source)) if n]
    return dict(sorted(out.items()))
