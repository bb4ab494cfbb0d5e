"""A shared spec library as a real git repository with two commits (tagged v1 and v2)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import git

LOGIN_SPEC = """# Feature Specification: Login

Let users log in with email and password.

## Requirements

### Functional Requirements

- **FR-001**: System MUST let users log in with email and password.
- **FR-002**: System MUST lock an account after five failed attempts.
"""


@dataclass
class Library:
    path: Path
    v1: str
    v2: str

    def commit(self, rel: str, text: str, message: str) -> str:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "-m", message)
        return git(self.path, "rev-parse", "HEAD").strip()


@pytest.fixture
def library(tmp_path: Path) -> Library:
    path = tmp_path / "team-specs"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    lib = Library(path, "", "")
    (path / "constitution.md").write_text("# Team Constitution\n\n1. Tests first.\n")
    (path / "templates" / "prompts").mkdir(parents=True)
    (path / "templates" / "prompts" / "note.md.j2").write_text("from the library\n")
    (path / "features" / "login").mkdir(parents=True)
    (path / "features" / "login" / "feature.md").write_text("Users log in with email.\n")
    lib.v1 = lib.commit("features/login/spec.md", LOGIN_SPEC, "login")
    git(path, "tag", "v1")
    lib.v2 = lib.commit("features/search/feature.md", "Users search products by name.\n", "search")
    git(path, "tag", "v2")
    return lib
