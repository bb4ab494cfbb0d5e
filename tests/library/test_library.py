"""`specflow library …` and `specify --from` with real git repositories in temp dirs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import run_cli
from tests.library.conftest import LOGIN_SPEC, Library


def config(project: Path) -> dict[str, Any]:
    from specflow.config import tomllib

    return tomllib.loads((project / "specflow.toml").read_text())


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text()
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])["specflow"]  # type: ignore[no-any-return]


def test_add_pins_head_and_caches_the_commit(project: Path, library: Library) -> None:
    before = (project / "specflow.toml").read_text()
    res = run_cli(["library", "add", "team", str(library.path)], project)
    assert res.code == 0, res.stderr
    assert (
        f"added library team at {library.v2[:12]} (git); 2 feature(s): login, search" in res.stdout
    )
    after = (project / "specflow.toml").read_text()
    assert after.startswith(before)  # the rest of the file is kept as written
    assert config(project)["libraries"]["team"] == {
        "source": str(library.path),
        "commit": library.v2,
    }
    cached = project / ".specflow" / "libraries" / "team" / library.v2
    assert (cached / "features" / "search" / "feature.md").is_file()
    listing = json.loads(run_cli(["library", "list", "--json"], project).stdout)
    assert listing[0]["commit"] == library.v2 and listing[0]["features"] == ["login", "search"]
    assert listing[0]["constitution"] and listing[0]["templates"]
    res = run_cli(["library", "add", "team", str(library.path)], project)
    assert res.code == 2 and "already exists" in res.stderr


def test_ref_pins_an_older_commit_and_update_moves_it(project: Path, library: Library) -> None:
    res = run_cli(["library", "add", "team", str(library.path), "--ref", "v1"], project)
    assert res.code == 0, res.stderr
    assert config(project)["libraries"]["team"] == {
        "source": str(library.path),
        "commit": library.v1,
        "ref": "v1",
    }
    assert "1 feature(s): login" in res.stdout
    # the recorded ref is followed: v1 has not moved
    res = run_cli(["library", "update", "team"], project)
    assert res.code == 0 and "up to date" in res.stdout
    res = run_cli(["library", "update", "team", "--ref", "main"], project)
    assert res.code == 0, res.stderr
    assert f"{library.v1[:12]} -> {library.v2[:12]}" in res.stdout
    v3 = library.commit("features/cart/feature.md", "A cart.\n", "cart")
    assert run_cli(["library", "update", "team"], project).code == 0
    entry = config(project)["libraries"]["team"]
    assert entry["commit"] == v3 and entry["ref"] == "main"
    assert "cart" in run_cli(["library", "list"], project).stdout


def test_specify_from_library_copies_the_spec(project: Path, library: Library) -> None:
    assert run_cli(["library", "add", "team", str(library.path), "--ref", "v1"], project).code == 0
    library.commit("features/login/spec.md", LOGIN_SPEC.replace("five", "three"), "newer")
    # a fresh clone of the project has no cache: the pinned commit is fetched again
    shutil.rmtree(project / ".specflow" / "libraries")
    res = run_cli(["specify", "--from", "team/login"], project)
    assert res.code == 0, res.stderr
    assert "copied from library team features/login/spec.md" in res.stdout
    feature = project / "specs" / "001-login"
    assert (feature / "feature.md").read_text() == "Users log in with email.\n"
    assert "five failed attempts" in (feature / "spec.md").read_text()  # v1, not the newer one
    meta = front_matter(feature / "spec.md")
    assert meta["library"] == {
        "name": "team",
        "source": str(library.path),
        "commit": library.v1,
        "path": "features/login",
    }
    assert meta["model"] is None and meta["version"] == 1
    status = json.loads(run_cli(["status", "--json"], project).stdout)["features"][0]
    assert status["artifacts"][0]["state"] == "fresh"


def test_specify_from_library_with_a_model_and_the_plan_keeps_the_library(
    project: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.stub_llm import StubLLM, json_reply

    spec = {
        "title": "Product search",
        "summary": "Search products by name.",
        "requirements": [{"id": "FR-001", "text": "System MUST find products by name."}],
    }
    plan = {"title": "Product search", "summary": "An index."}
    assert run_cli(["library", "add", "team", str(library.path)], project).code == 0
    with StubLLM() as stub:
        for k, v in stub.env().items():
            monkeypatch.setenv(k, v)
        stub.queue(json_reply(spec))
        stub.queue(json_reply(plan))
        res = run_cli(["specify", "--from", "team/search", "--model", "openai/stub"], project)
        assert res.code == 0, res.stderr
        assert "Users search products by name." in json.dumps(stub.requests[0]["messages"])
        res = run_cli(["plan", "1", "--model", "openai/stub"], project)
        assert res.code == 0, res.stderr
    feature = project / "specs" / "001-product-search"
    for name in ("spec.md", "plan.md"):
        lib = front_matter(feature / name)["library"]
        assert lib["commit"] == library.v2 and lib["path"] == "features/search"


def test_plain_folder_pinned_by_content_hash(project: Path, tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    (folder / "features" / "login").mkdir(parents=True)
    (folder / "features" / "login" / "feature.md").write_text("Log in.\n")
    (folder / "features" / "login" / "spec.md").write_text(LOGIN_SPEC)
    res = run_cli(["library", "add", "shared", "../plain"], project)
    assert res.code == 0, res.stderr
    entry = config(project)["libraries"]["shared"]
    assert entry["source"] == "../plain" and entry["commit"].startswith("sha256:")
    (folder / "features" / "login" / "feature.md").write_text("Log in, changed.\n")
    shutil.rmtree(project / ".specflow" / "libraries")
    res = run_cli(["specify", "--from", "shared/login"], project)
    assert res.code == 1 and "changed since it was pinned" in res.stderr
    assert "specflow library update shared" in res.stderr
    assert run_cli(["library", "update", "shared"], project).code == 0
    assert config(project)["libraries"]["shared"]["commit"] != entry["commit"]
    assert run_cli(["specify", "--from", "shared/login"], project).code == 0
    assert "Log in, changed." in (project / "specs" / "001-login" / "feature.md").read_text()
    res = run_cli(["library", "add", "x", "../plain", "--ref", "main"], project)
    assert res.code == 2 and "not a git repository" in res.stderr


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["specify", "--from", "nope/login"], "no library named 'nope'"),
        (["specify", "--from", "team/missing"], "its features: login, search"),
        (["specify", "--from", "team"], "is not NAME/feature"),
        (["specify", "x.md", "--from", "team/login"], "not both"),
        (["library", "add", "bad name", "."], "not a valid library name"),
        (["library", "add", "y", "/does/not/exist"], "does not exist"),
        (["library", "update", "nope"], "no library named 'nope'"),
    ],
)
def test_bad_input_is_exit_2(project: Path, library: Library, args: list[str], needle: str) -> None:
    assert run_cli(["library", "add", "team", str(library.path)], project).code == 0
    res = run_cli(args, project)
    assert res.code == 2, res.stdout + res.stderr
    assert needle in res.stderr and res.stderr.count("\n") == 1


def test_remove_constitution_and_templates(project: Path, library: Library) -> None:
    from specflow.library.core import template_dirs
    from specflow.project import Project

    assert run_cli(["library", "add", "team", str(library.path)], project).code == 0
    res = run_cli(["library", "constitution", "team"], project)
    assert res.code == 0, res.stderr
    text = (project / "specs" / "constitution.md").read_text()
    assert text.startswith(f"<!-- specflow library: team {library.path} {library.v2}")
    assert "1. Tests first." in text
    (project / "specs" / "constitution.md").write_text("# Ours\n")
    res = run_cli(["library", "constitution", "team"], project)
    assert res.code == 2 and "--force" in res.stderr
    assert run_cli(["library", "constitution", "team", "--force"], project).code == 0
    proj = Project.discover(project)
    assert proj is not None
    [tdir] = template_dirs(proj)
    assert (tdir / "prompts" / "note.md.j2").read_text() == "from the library\n"
    assert run_cli(["library", "remove", "team"], project).code == 0
    assert "libraries" not in config(project)
    assert not (project / ".specflow" / "libraries" / "team").exists()


def test_toml_edit_replaces_only_its_table(tmp_path: Path) -> None:
    from specflow.library.tomledit import remove_library, set_library

    (tmp_path / "specflow.toml").write_text(
        '[project]\nname = "x"\n\n[libraries.a]\nsource = "old"\n\n# next\n[implement]\nparallel = 2\n'
    )
    set_library(tmp_path, "a", {"source": 'new "q"', "commit": "abc", "ref": None})
    assert (tmp_path / "specflow.toml").read_text() == (
        '[project]\nname = "x"\n\n[libraries.a]\nsource = "new \\"q\\""\ncommit = "abc"\n\n'
        "# next\n[implement]\nparallel = 2\n"
    )
    remove_library(tmp_path, "a")
    assert "libraries" not in (tmp_path / "specflow.toml").read_text()
    assert "[implement]" in (tmp_path / "specflow.toml").read_text()


def test_library_template_dirs_for_the_loader(project: Path, library: Library) -> None:
    from specflow.library.templates import library_template_dirs

    assert library_template_dirs(project) == []
    assert run_cli(["library", "add", "team", str(library.path)], project).code == 0
    shutil.rmtree(project / ".specflow" / "libraries")  # rebuilt from the pin on demand
    [tdir] = library_template_dirs(project)
    assert tdir == project / ".specflow" / "libraries" / "team" / library.v2 / "templates"
    assert (tdir / "prompts" / "note.md.j2").is_file()


def test_git_url_source_and_pyproject_config(git_repo: Path, library: Library) -> None:
    (git_repo / "pyproject.toml").write_text(
        '[project]\nname = "app"\n\n[tool.specflow]\n\n[tool.specflow.project]\nname = "app"\n'
    )
    (git_repo / "specs").mkdir()
    url = library.path.as_uri()  # file://…: cloned like any remote URL
    res = run_cli(["library", "add", "team", url, "--ref", "v1"], git_repo)
    assert res.code == 0, res.stderr
    from specflow.config import tomllib

    data = tomllib.loads((git_repo / "pyproject.toml").read_text())
    assert data["tool"]["specflow"]["libraries"]["team"]["commit"] == library.v1
    assert data["project"] == {"name": "app"}
    res = run_cli(["specify", "--from", "team/login"], git_repo)
    assert res.code == 0, res.stderr
    meta = front_matter(git_repo / "specs" / "001-login" / "spec.md")
    assert meta["library"]["source"] == url


def test_library_templates_override_builtins(tmp_path: Path) -> None:
    """A pinned library's templates/ beats the built-ins; the project's own beats both."""
    from specflow.templating import render, template_ref

    root = tmp_path / "proj"
    lib_templates = tmp_path / "lib-templates"
    (lib_templates / "prompts").mkdir(parents=True)
    (lib_templates / "prompts" / "system.md.j2").write_text("library says {{ stage }}\n")
    root.mkdir()
    import specflow.library.templates as lt

    original = lt.library_template_dirs
    lt.library_template_dirs = lambda _root: [lib_templates]  # type: ignore[assignment]
    try:
        assert render("prompts/system.md.j2", root, stage="plan") == "library says plan\n"
        own = root / ".specflow" / "templates" / "prompts"
        own.mkdir(parents=True)
        (own / "system.md.j2").write_text("project says {{ stage }}\n")
        assert render("prompts/system.md.j2", root, stage="plan") == "project says plan\n"
        assert template_ref("prompts/system.md.j2", root).startswith("system.md.j2@sha256:")
    finally:
        lt.library_template_dirs = original  # type: ignore[assignment]


def test_a_library_artifact_template_shapes_the_written_plan(
    project: Path, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    from specflow.fsutil import sha256_text
    from specflow.resources import builtin_templates_dir
    from tests.support.stub_llm import StubLLM, json_reply

    builtin = (builtin_templates_dir() / "artifacts" / "plan.md.j2").read_text()
    custom = builtin.replace(
        "# Implementation Plan: {{ plan.title }}",
        "# Implementation Plan: {{ plan.title }}\n\n> Reviewed by the platform team",
    )
    library.commit("templates/artifacts/plan.md.j2", custom, "plan layout")
    assert run_cli(["library", "add", "team", str(library.path)], project).code == 0
    spec = {"title": "Search", "requirements": [{"id": "FR-001", "text": "Find by name."}]}
    with StubLLM() as stub:
        for k, v in stub.env().items():
            monkeypatch.setenv(k, v)
        stub.queue(json_reply(spec), json_reply({"title": "Search", "summary": "An index."}))
        assert (
            run_cli(["specify", "--from", "team/search", "--model", "openai/stub"], project).code
            == 0
        )
        res = run_cli(["plan", "1", "--model", "openai/stub"], project)
        assert res.code == 0, res.stderr
    plan = project / "specs" / "001-search" / "plan.md"
    assert "> Reviewed by the platform team" in plan.read_text()
    templates = front_matter(plan)["templates"]
    assert templates["artifacts/plan.md.j2"] == sha256_text(custom)
    assert templates["prompts/plan.md.j2"] == sha256_text(
        (builtin_templates_dir() / "prompts" / "plan.md.j2").read_text()
    )
