"""formats/_simple_yaml.py against PyYAML's safe loader: where the line scan answers, its
mapping is PyYAML's (values, their types, key order); what specflow writes takes that path."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import yaml

from specflow.formats import _simple_yaml
from specflow.formats._md import split_lines
from specflow.formats.frontmatter import _closing_line, join_front_matter
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]


def _same_or_unsure(block: str) -> bool:
    got = _simple_yaml.load(block)
    if got is None:
        return False
    ref = yaml.load(block, Loader=yaml.CSafeLoader)
    assert repr(got) == repr(ref), block  # repr: 1 and 1.0 and '1' differ
    return True


def _front_matter(text: str) -> str | None:
    lines = split_lines(text)
    close = _closing_line(lines, 3) if text.startswith("---") else None
    return "\n".join(lines[1:close]) if close else None


def test_the_demo_artifacts_and_the_repository(tmp_path: Path) -> None:
    res = run_cli(["demo", "--dir", str(tmp_path / "demo"), "--no-implement"], tmp_path)
    assert res.code == 0, res.stdout + res.stderr
    demo = sorted((tmp_path / "demo" / "specs").glob("*/*.md"))
    blocks = [_front_matter(p.read_text(encoding="utf-8")) for p in demo]
    assert len([b for b in blocks if b]) >= 3
    assert all(_same_or_unsure(b) for b in blocks if b)  # what specflow writes: the fast path
    repo = [p for p in ROOT.rglob("*.md") if ".venv" not in p.parts]
    for block in filter(None, (_front_matter(p.read_text(encoding="utf-8")) for p in repo)):
        _same_or_unsure(block)


def test_what_join_front_matter_writes() -> None:
    meta = {
        "specflow": {
            "artifact": "spec",
            "version": 12,
            "inputs": {"feature.md": "sha256:e8b6", "constitution.md": "sha256:00"},
            "template": None,
            "usage": {},
            "created": "2026-12-03T22:10:03Z",
            "cost_usd": 0.000925,
            "requirements": {"FR-001": "bc8553c307d6", "FR-002": "123456789012", "SC-1": "0b10"},
            "notes": "it's: odd # really",
            "list": [],
            "yes": "on",
        }
    }
    block = join_front_matter(meta, "")[4:].split("\n---\n", 1)[0]
    got = _simple_yaml.load(block)
    assert got is None or got == meta
    assert got is None  # the quoted key 'yes' (PyYAML quotes it) is left to PyYAML
    del meta["specflow"]["yes"]
    block = join_front_matter(meta, "")[4:].split("\n---\n", 1)[0]
    assert _simple_yaml.load(block) == meta


SURE = [
    "a: b",
    "a:\n  b: c\n  d:\n    e: 1\n  f: 0.5\nc: 'x''y'",
    "k: sha256:abc\nm: replay:x.jsonl\nt: spec.md.j2@sha256:ff",
    "h: 9246d5bdc385\ni: 12e45\nj: 0a",
    "u: null\ne: {}\nl: []\nz: 0",
    "a: 1e5",
    "my key: a  b",
]
UNSURE = [
    "",
    "a: yes",
    "on: 1",
    "a: 007",
    "a: 0b101",
    "a: -1",
    "a: 2026-12-03",
    "a: 1:30",
    'a: "x"',
    "a: x # c",
    "a:\n- 1",
    "a: |\n  x",
    "a: &x 1\nb: *x",
    "a: !!str 1",
    "a:",
    "a: 1\n\nb: 2",
    "a: 1 ",
    "a:\n  b: 1\n c: 2",
    "a: {b: 1}",
    "a: x\x7f",
    "a: \u00a0x",
    "a:\tb",
    "<<: {}",
]


@pytest.mark.parametrize(
    ("block", "read"), [(b, True) for b in SURE] + [(b, False) for b in UNSURE]
)
def test_corner_cases_read_by_the_scan_or_left_to_pyyaml(block: str, read: bool) -> None:
    assert _same_or_unsure(block) is read


KEYS = ["a", "key", "FR-001", "spec.md", "on", "yes", "1", "my key", "x:y", "(p)", "Null", "y"]
VALUES = [
    *["v", "sha256:abc", "a b", "3100", "0", "007", "0.5", "00.5", "1e5", "-1", ".5", "1_0"],
    *["'q'", "'it''s'", "''", '"d"', "null", "Null", "~", "{}", "[]", "{a: 1}", "true", "no"],
    *["2026-12-03", "12:30", "http://x", "a: b", "a #c", "C#", "|", "&a x", "*a", "!t x", "<<"],
    *["9246d5bdc385", "0b101", "0b12", "0x1f", "12e45", "0e0", "é", "a[b]", "%x", "@x", "y"],
]


def test_random_blocks() -> None:
    rng = random.Random(15)
    answered = 0
    for _ in range(4000):
        keys = KEYS if rng.random() < 0.5 else ["a", "b", "FR-001", rng.choice(KEYS)]
        values = VALUES if rng.random() < 0.5 else ["v", "0a1", "31", "0.5", rng.choice(VALUES)]
        lines, depth = [], 0
        for _ in range(rng.randint(1, 8)):
            if rng.random() < 0.25 and depth < 3:
                lines.append("  " * depth + f"{rng.choice(keys)}:")
                depth += 1
            else:
                lines.append("  " * depth + f"{rng.choice(keys)}: {rng.choice(values)}")
                depth -= rng.random() < 0.3 and depth > 0
        try:
            answered += _same_or_unsure("\n".join(lines))
        except yaml.YAMLError:  # PyYAML refuses it: the scan must have been unsure
            assert _simple_yaml.load("\n".join(lines)) is None
    assert answered > 400
