"""One CLI vocabulary (docs/cli.md): every command's parameters are walked and checked."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import typer

from specflow.cli import vocabulary
from specflow.cli.main import app
from tests.conftest import REPO_ROOT


def _commands() -> Iterator[tuple[str, Any]]:
    def walk(cmd: Any, path: str) -> Iterator[tuple[str, Any]]:
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, f"{path} {name}")

    yield from walk(vocabulary.apply(typer.main.get_command(app)), "specflow")


def _params() -> Iterator[tuple[str, Any]]:
    for path, cmd in _commands():
        for param in cmd.params:
            yield path, param


def test_enough_commands_are_walked() -> None:
    assert len([p for p, c in _commands() if not getattr(c, "commands", None)]) >= 25


def test_a_short_option_means_one_thing_everywhere() -> None:
    wrong = []
    for path, param in _params():
        opts = [*param.opts, *param.secondary_opts]
        longs = [o for o in opts if o.startswith("--")]
        for short in (o for o in opts if re.fullmatch(r"-[A-Za-z]", o)):
            if vocabulary.SHORT_OPTIONS.get(short) not in longs:
                wrong.append(f"{path}: {short} is {longs}, the table says {short} is "
                             f"{vocabulary.SHORT_OPTIONS.get(short)}")  # fmt: skip
    assert not wrong, wrong


def test_a_long_option_with_a_short_form_has_it_everywhere() -> None:
    """`--parallel` is `-j` in every command that has `--parallel` (and so on)."""
    by_long = {long: short for short, long in vocabulary.SHORT_OPTIONS.items()}
    missing = []
    for path, param in _params():
        opts = [*param.opts, *param.secondary_opts]
        for long in opts:
            short = by_long.get(long)
            if short and short not in opts and long not in ("--help",):
                missing.append(f"{path}: {long} without {short}")
    assert not missing, missing


def test_every_value_is_named_in_words() -> None:
    unnamed = []
    for path, param in _params():
        if getattr(param, "is_flag", False) or param.name == "help":
            continue
        word = param.metavar or ""
        if not re.fullmatch(r"[A-Z][A-Z/]*(\.\.\.)?", word):
            unnamed.append(f"{path}: {param.name} shows {word or 'a type name'}")
    assert not unnamed, "add the parameter to VALUE_NAMES in cli/vocabulary.py: " + str(unnamed)


def test_every_command_that_takes_a_feature_takes_it_as_feature_option() -> None:
    lacking = []
    for path, cmd in _commands():
        names = {p.name for p in cmd.params}
        takes_feature = "feature" in names or "feature_opt" in names
        options = {o for p in cmd.params for o in p.opts}
        if takes_feature and not {"--feature", "-F"} <= options:
            lacking.append(path)
    assert not lacking, lacking
    # and a positional FEATURE always comes with the option (the alias)
    for path, cmd in _commands():
        positional = [
            p for p in cmd.params if p.name == "feature" and not p.opts[0].startswith("-")
        ]
        if positional:
            assert any(p.name == "feature_opt" for p in cmd.params), path


def test_the_docs_table_is_the_code_table() -> None:
    doc = (REPO_ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `(-\w)` \| `(--[\w-]+)` \|", doc, re.M))
    assert rows == vocabulary.SHORT_OPTIONS
    words = set(re.findall(r"\b[A-Z][A-Z/]*(?:\.\.\.)?\b", doc.split("## Values", 1)[1]))
    assert set(vocabulary.VALUE_NAMES.values()) <= words
