"""Library templates for the template loader (specflow/templating.py).

Search order: `.specflow/templates/` (the project's own overrides), then each library's
`templates/` in specflow.toml order, then the built-in templates.
"""

from __future__ import annotations

from pathlib import Path


def library_template_dirs(project_root: Path) -> list[Path]:
    """The `templates/` folders of the project's pinned libraries (`templates = false` in a
    `[libraries.NAME]` table opts one out). Cheap when there are no libraries: one TOML read."""
    from specflow.config import load_config

    config = load_config(project_root)
    if not config.libraries:
        return []
    from specflow.library.core import template_dirs
    from specflow.project import Project

    return template_dirs(Project(project_root, config))
