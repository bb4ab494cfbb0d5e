"""`specify --from NAME/feature`: a feature taken from a pinned library, ready for the spec stage."""

from __future__ import annotations

from specflow.errors import InputError
from specflow.formats.frontmatter import split_front_matter
from specflow.fsutil import read_text_input
from specflow.library.core import LibraryFeature, LibraryInfo, checkout, library_entry
from specflow.project import Project


def library_feature(project: Project, spec: str) -> LibraryFeature:
    """`NAME/feature` -> the feature's text (and spec.md, if the library has one)."""
    name, _, feature = spec.partition("/")
    feature = feature.strip("/").removeprefix("features/")
    if not name or not feature or "/" in feature or feature in (".", ".."):
        raise InputError(f"'{spec}' is not NAME/feature", "e.g. --from team/login")
    entry = library_entry(project, name)
    root = checkout(project, name)
    folder = root / "features" / feature
    if not (folder / "feature.md").is_file():
        info = LibraryInfo(name, entry.source, entry.commit or "", "", None, root)
        known = ", ".join(info.features()) or "none"
        raise InputError(
            f"library '{name}' has no features/{feature}/feature.md", f"its features: {known}"
        )
    spec_body = None
    if (folder / "spec.md").is_file():
        _, spec_body = split_front_matter(read_text_input(folder / "spec.md"))
    return LibraryFeature(
        library=name,
        source=entry.source,
        commit=entry.commit or "",
        path=f"features/{feature}",
        feature_text=read_text_input(folder / "feature.md"),
        spec_body=spec_body,
    )
