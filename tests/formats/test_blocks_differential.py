"""The line scanner (formats/_blocks.py) against markdown-it-py: wherever the scanner answers,
its blocks are markdown-it-py's, to the line and character; where it is unsure, Doc falls back.

Checked on every Markdown file of the repository, on the demo's generated artifacts, on
hand-written corner cases and on random documents built from the line shapes that matter.
The common files must take the fast path, so a scanner that gives up on everything fails.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from specflow.formats._blocks import Unsure, scan
from specflow.formats._md import (
    Doc,
    file_doc,
    markdown_blocks,
    parse_doc,
    shared_docs,
    split_lines,
)
from tests.conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
MARKDOWN = sorted(
    p
    for folder in ("tests", "examples", "templates", "specs", "docs")
    for p in (ROOT / folder).rglob("*.md")
    if ".venv" not in p.parts
)


def _same_or_unsure(text: str) -> bool:
    """True when the scanner answered (and agreed), False when it was unsure."""
    try:
        got = scan(text, split_lines(text))
    except Unsure:
        return False
    assert got == markdown_blocks(text), text
    return True


def test_every_markdown_file_of_the_repository() -> None:
    assert len(MARKDOWN) > 60
    unsure = [p for p in MARKDOWN if not _same_or_unsure(p.read_text(encoding="utf-8"))]
    # a handful use what the scanner leaves to markdown-it (a setext heading, indented code, …)
    assert len(unsure) <= len(MARKDOWN) // 10, unsure


def test_spec_kit_fixtures_and_project_specs_take_the_fast_path() -> None:
    common = [
        p
        for p in MARKDOWN
        if p.name in ("spec.md", "plan.md", "tasks.md")
        and ("speckit" in p.parts or p.parts[len(ROOT.parts)] == "specs")
    ]
    assert len(common) >= 10
    slow = [p for p in common if not Doc(p.read_text(encoding="utf-8")).scanned]
    assert len(slow) <= 1, slow  # front-matter-tags/tasks.md has a setext heading


def test_the_demo_artifacts(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    res = run_cli(["demo", "--dir", str(target), "--no-implement"], tmp_path)
    assert res.code == 0, res.stdout + res.stderr
    files = sorted((target / "specs").glob("*/*.md"))
    assert {p.name for p in files} >= {"spec.md", "plan.md", "tasks.md"}
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert _same_or_unsure(text), f"{path.name} left the fast path"
        assert Doc(text).scanned


SAME = [
    "",
    "\n\n",
    "# Title\n\ntext\n",
    "#   Spaced   #  \n## closed ##\n### #\n#### a#\n####### seven\n#no\n",
    "---\na: 1\n---\n\n# T\n",
    "---\na: 1\n...\n# T",
    "----\na: 1\n---\nb\n----\n",
    "- a\n- b\n\n- c\n",
    "- a\n  - b\n    - c\n  - d\n- e\n",
    "1. one\n2. two\n10. ten\n",
    "1) a\n2. b\n",
    "- a\n* b\n+ c\n",
    "- a\n  continued\n  more\n",
    "-  two\n   spaces\n",
    "- a\n\n  second paragraph\n- b\n",
    "- [ ] T001 Title\n  - depends: none\n  - files: a.py\n",
    "text\n- item\n",
    "text\n2. not a list\n",
    "text\n1. a list\n",
    "text\n# heading\nmore\n",
    "text\n***\nmore\n",
    "text\n```\ncode\n```\n",
    "text\n<!-- c -->\nmore\n",
    "<!-- a\nb\n-->\nafter\n",
    "<!-- never closed\n\nstill\n",
    "| a | b |\n|---|:-:|\n| 1 | 2 |\n| 3 |\n| 4 | 5 | 6 |\nafter\n",
    "a | b\n--- | ---\nc | d\n",
    "| a \\| b | c |\n| --- | --- |\n| x \\| y | z |\n",
    "| a |\n| - |\n- list ends the table\n",
    "```py\ncode\n  ```\n~~~\n",
    "````\n```\n````\n",
    "``` `x`\n",
    "~~~\nnever closed\n",
    "- a\n  ```\n  code\n  ```\n- b\n",
    "- a\n  | h | i |\n  | - | - |\n  | 1 | 2 |\n",
    "- <!-- c -->\n- b\n",
    "- # heading in item\n- b\n",
    "* * *\n- - -\n___\n",
    "[ ] not a reference\n[x] neither\n",
    "1. a\n   - b\n     1. c\n",
    "- a\n    - four spaces\n",
    "  - indented\n  - list\n",
    "text  \n   more  \n",
    "\xa0text\xa0\n",
    "a\r\nb\r\n\r\n- c\r\n",
    "# T\n\n**Label**: value\n**Other**: v\n",
]

UNSURE = [
    "Title\n=====\n",
    "text\n---\n",
    "> quote\n",
    "    indented code\n",
    "[ref]: /url\n",
    "<div>\nhtml\n</div>\n",
    "- a\nlazy\n",
    "-\n  empty item\n",
    "\tTab\n",
    "nul\0\n",
    "---\nunclosed front matter\n",
    "-      far\n",
]


@pytest.mark.parametrize("text", SAME)
def test_corner_cases_the_scanner_handles(text: str) -> None:
    assert _same_or_unsure(text)


@pytest.mark.parametrize("text", UNSURE)
def test_corner_cases_left_to_markdown_it(text: str) -> None:
    assert not _same_or_unsure(text)
    doc = Doc(text)
    assert not doc.scanned
    assert doc.blocks == markdown_blocks(text)


LINES = [
    *["", "", "", "text", "more words", "**Bold**: v", "*emph*", "2.5 not a list", "1.x"],
    *["# Title", "## Sub ##", "#nospace", "####### seven", "  # h"],
    *["- item", "* star", "+ plus", "1. one", "2. two", "10) ten", "-", "- ", "-  two"],
    *["  - nested", "    - deep", "   - three", "     - five", "  1. n", "- [ ] T001 task"],
    *["  continued", "   text three", "    indented four", "      six", "  - depends: none"],
    *["```", "```py", "~~~", "````", "``` `x`", "  ```", "1. ```"],
    *["| a | b |", "|---|---|", "| --- | :-: |", "a | b", "--- | ---", "|x|y|z|", "  | - | - |"],
    *["<!-- c -->", "<!--", "-->", "  <!-- x", "- <!-- c -->", "<div>"],
    *["---", "***", "* * *", "- - -", "___", "===", "  ---", "- ---x", "..."],
    *["> quote", "[ref]: /url", "[ ] box", "- | a |", "- # head", "   ", "\t"],
]


def test_random_documents() -> None:
    rng = random.Random(15)
    answered = 0
    for _ in range(3000):
        lines = [rng.choice(LINES) for _ in range(rng.randint(1, 14))]
        if rng.random() < 0.2:
            lines = ["---", "a: 1", rng.choice(["---", "...", "----", "--"]), *lines]
        lines = [" " * rng.choice([0, 0, 1, 2, 3, 4, 6]) + line for line in lines]
        answered += _same_or_unsure("\n".join(lines) + rng.choice(["", "\n", "\n\n", "\n  "]))
    assert answered > 600  # the fast path was taken often enough to mean something


def test_the_linter_reads_the_body_parse_as_the_whole_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """lint.document.parse takes a file's blocks from its body's Doc (the one the spec parser
    uses), `offset` lines down: the same Document as from a parse of the whole file."""
    import specflow.lint.document as lint_doc

    texts = [p.read_text(encoding="utf-8") for p in MARKDOWN]
    texts += [f"---\na: 1\n---\n\n{t}" for t in SAME] + [f"---\na: 1\n---\n{t}" for t in SAME]
    shared = [lint_doc.parse(t) for t in texts]
    assert sum(file_doc(t)[1] > 0 for t in texts) >= 50  # the body path is taken
    monkeypatch.setattr(lint_doc, "file_doc", lambda text: (Doc(text), 0))
    assert [lint_doc.parse(t) for t in texts] == shared


def test_shared_docs_parse_each_text_once_and_only_inside_the_block() -> None:
    text = "# T\n\n- a\n"
    assert parse_doc(text) is not parse_doc(text)
    with shared_docs():
        first = parse_doc(text)
        assert parse_doc(text) is first
        body, offset = file_doc(f"---\na: 1\n---\n\n{text}")
        assert (body, offset) == (first, 4)
    assert parse_doc(text) is not first
