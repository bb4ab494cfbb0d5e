from __future__ import annotations

import datetime as dt

import pytest

from specflow.errors import ParseError
from specflow.formats.frontmatter import join_front_matter, split_front_matter

META = {
    "specflow": {
        "artifact": "plan",
        "version": 3,
        "inputs": {"spec.md": "sha256:abc", "constitution.md": "sha256:def"},
        "output": "sha256:123",
        "model": "anthropic/claude-x",
        "usage": {"prompt_tokens": 1234, "completion_tokens": 567, "cost_usd": 0.0123},
        "created": dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.timezone.utc),
    },
    "zeta": "ünïcødé — ok",
    "alpha": [1, 2],
}


def test_join_then_split_round_trips() -> None:
    body = "# Implementation Plan: X\n\n## Summary\n\ntext\n"
    text = join_front_matter(META, body)
    assert split_front_matter(text) == (META, body)


def test_join_keeps_key_order_and_unicode() -> None:
    text = join_front_matter(META, "body\n")
    assert text.startswith("---\nspecflow:\n  artifact: plan\n")
    assert text.index("zeta:") < text.index("alpha:")
    assert "ünïcødé — ok" in text
    assert "---\n\nbody\n" in text


@pytest.mark.parametrize("body", ["", "\n", "\n\nx", "no newline", "---\nnot meta\n"])
def test_round_trip_edge_bodies(body: str) -> None:
    assert split_front_matter(join_front_matter({"a": 1}, body)) == ({"a": 1}, body)


def test_empty_mapping() -> None:
    text = join_front_matter({}, "# T\n")
    assert text == "---\n---\n\n# T\n"
    assert split_front_matter(text) == ({}, "# T\n")


def test_no_front_matter() -> None:
    text = "# Title\n\n---\n\nmore\n"
    assert split_front_matter(text) == (None, text)


def test_unclosed_block_is_an_error_not_silently_body() -> None:
    with pytest.raises(ParseError, match=r"x.md:1: front matter is not closed"):
        split_front_matter("---\na: 1\n# Tasks: X\n", "x.md")


def test_hand_written_without_blank_line() -> None:
    assert split_front_matter("---\na: 1\n---\n# T\n") == ({"a": 1}, "# T\n")


def test_spec_kit_front_matter_with_leading_blank_line() -> None:
    text = '---\n\ndescription: "Task list"\n---\n\n# Tasks: X\n'
    assert split_front_matter(text) == ({"description": "Task list"}, "# Tasks: X\n")


def test_crlf_text() -> None:
    assert split_front_matter("---\r\na: 1\r\n---\r\n\r\nbody\r\n") == ({"a": 1}, "body\r\n")


def test_broken_yaml_names_the_line() -> None:
    text = "---\nok: 1\nbad: [unclosed\nmore: 2\n---\nbody\n"
    with pytest.raises(ParseError) as err:
        split_front_matter(text, path="specs/001-x/plan.md")
    assert err.value.path == "specs/001-x/plan.md"
    assert err.value.line is not None and 3 <= err.value.line <= 5
    assert "front matter" in err.value.message


def test_bad_indentation_line() -> None:
    text = "---\na: 1\n  b: 2\n---\n"
    with pytest.raises(ParseError) as err:
        split_front_matter(text)
    assert err.value.line == 3


def test_non_mapping_is_an_error() -> None:
    with pytest.raises(ParseError) as err:
        split_front_matter("---\n- a\n- b\n---\nbody\n")
    assert err.value.line == 1
    assert "mapping" in err.value.message
