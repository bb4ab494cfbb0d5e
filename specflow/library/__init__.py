"""Shared spec libraries: reusable constitutions, feature specs and templates, pinned by commit
in specflow.toml and cached under `.specflow/libraries/`. See docs/libraries.md."""
