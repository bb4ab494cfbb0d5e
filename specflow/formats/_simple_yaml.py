"""The YAML specflow writes into front matter, read by a line scan.

`join_front_matter` writes nested block mappings whose values are plain words, hex digests, whole
numbers, decimals, single-quoted strings, `null`, `{}` and `[]`. `load` reads exactly that and
returns None for anything else — a sequence, a comment, a double-quoted or multi-line string, a
flow collection, an anchor, a tag, a tab, a word YAML 1.1 reads as a boolean or null, a number
with a sign, a leading zero, an underscore or a signed exponent — so the caller hands the text to
PyYAML. Where it answers, the answer is PyYAML's safe loader's (tests/formats/
test_simple_yaml.py compares both on every front matter of the repository and on corner cases):
`check` and `status` read three front matters per feature, and PyYAML's constructor is Python.
"""

from __future__ import annotations

import re
from typing import Any

# A plain scalar read as a string: no indicator first, no ': ' or ' #' inside, no digit,
# sign or dot first (numbers, timestamps, sexagesimals), no space at either end.
WORD_RE = re.compile(r"[A-Za-z_/$(][^\s:#]*(?::[^\s:#]+)*(?: +[^\s:#]+(?::[^\s:#]+)*)*")
INT_RE = re.compile(r"[1-9][0-9]*|0")
# A hex digest that is not all digits (requirement hashes): a string to YAML 1.1 as well,
# unless it starts with 0b (a binary number when the rest is 0s and 1s).
HEX_RE = re.compile(r"(?!0b)[0-9][0-9a-f]*[a-f][0-9a-f]*")
DECIMAL_RE = re.compile(r"[0-9]+\.[0-9]+")
QUOTED_RE = re.compile(r"'(?:[^']|'')*'")
# Plain words YAML 1.1 resolves to booleans or null, in any case (PyYAML knows three spellings).
SPECIAL_WORDS = {"yes", "no", "true", "false", "on", "off", "null", "y", "n"}


def load(block: str) -> dict[str, Any] | None:
    """The mapping in `block`, or None when it is not (only) what specflow writes."""
    if "\t" in block or not block.strip():
        return None
    root: dict[str, Any] = {}
    stack: list[tuple[int, dict[str, Any]]] = [(0, root)]  # (indent, mapping)
    pending: tuple[dict[str, Any], str] | None = None  # a `key:` whose value is below
    for line in block.split("\n"):
        body = line.lstrip(" ")
        indent = len(line) - len(body)
        if not body or body.rstrip(" ") != body or not line.isprintable():
            return None  # blank lines, trailing spaces, odd characters: leave them to PyYAML
        if pending is not None:
            if indent <= stack[-1][0]:
                return None  # `key:` with nothing below is null: rare, leave it
            child: dict[str, Any] = {}
            pending[0][pending[1]] = child
            stack.append((indent, child))
            pending = None
        while indent < stack[-1][0]:
            stack.pop()
        if indent != stack[-1][0]:
            return None
        key, sep, rest = body.partition(":")
        if not sep or _scalar(key) is not key or (rest and not rest.startswith(" ")):
            return None
        value = rest[1:]
        mapping = stack[-1][1]
        if not value:
            pending = (mapping, key)
            continue
        parsed = _scalar(value)
        if parsed is _UNSURE:
            return None
        mapping[key] = parsed
    if pending is not None:
        return None
    return root


_UNSURE = object()


def _scalar(text: str) -> Any:
    """The value of one scalar (a key is returned as the same object when it is a string)."""
    if text == "null":
        return None
    if text == "{}":
        return {}
    if text == "[]":
        return []
    if WORD_RE.fullmatch(text):
        return _UNSURE if text.lower() in SPECIAL_WORDS else text
    if HEX_RE.fullmatch(text):
        return text
    if INT_RE.fullmatch(text):
        return int(text)
    if DECIMAL_RE.fullmatch(text):
        return float(text)
    if QUOTED_RE.fullmatch(text):
        return text[1:-1].replace("''", "'")
    return _UNSURE
