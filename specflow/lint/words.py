"""Word lists (vague terms, technologies): built-in data files plus the project's additions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from specflow.errors import ConfigError

# A term is a whole word or phrase: not part of a longer word, a hyphenated compound
# (`high-quality` is not `high`) or a dotted name (`node.js` is not `node`).
_BEFORE = r"(?<![\w#+.\-/])"
_AFTER = r"(?![\w#+]|[.\-/]\w)"


@dataclass(frozen=True)
class Term:
    text: str
    exact_case: bool
    pattern: re.Pattern[str]


def term(text: str) -> Term:
    exact = text.startswith("=")
    word = text[1:] if exact else text
    body = r"\s+".join(re.escape(part) for part in word.split())
    flags = 0 if exact else re.IGNORECASE
    return Term(word, exact, re.compile(_BEFORE + body + _AFTER, flags))


def parse_list(text: str) -> tuple[list[str], list[str]]:
    """Lines of a word file: `term`, `=Term` (exact case), `!term` (remove); `#` starts a
    comment line (only at the start: `C#` is a name)."""
    add: list[str] = []
    remove: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("!"):
            remove.append(line[1:].strip())
        else:
            add.append(line)
    return add, remove


def builtin(name: str) -> str:
    return (
        resources.files("specflow.lint").joinpath("data").joinpath(name).read_text(encoding="utf-8")
    )


def load_terms(
    name: str, project_file: Path | None, extra: list[str], allow: list[str]
) -> list[Term]:
    """The built-in list `name`, plus the project's file and `[lint]` list, less what they allow.

    Longer phrases first, so `easy to use` wins over `easy` at the same place."""
    add, remove = parse_list(builtin(name))
    if project_file is not None and project_file.is_file():
        try:
            more, less = parse_list(project_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"{project_file}: cannot read the word list ({exc})", "make it a UTF-8 text file"
            ) from None
        add += more
        remove += less
    add += extra
    removed = {w.lstrip("=").lower() for w in [*remove, *allow]}
    seen: set[str] = set()
    out: list[Term] = []
    for entry in add:
        key = entry.lstrip("=").lower()
        if key in removed or entry in seen:
            continue
        seen.add(entry)
        out.append(term(entry))
    out.sort(key=lambda t: -len(t.text))
    return out


_RUN = re.compile(r"[^\W_]+")  # a run of letters and digits


_INDEXES: dict[int, tuple[list[Term], int, dict[str, list[tuple[int, Term]]]]] = {}


def _index(terms: list[Term]) -> dict[str, list[tuple[int, Term]]]:
    """The index of this very list (by identity: hashing ~200 terms per line cost more than
    the scan), made once."""
    hit = _INDEXES.get(id(terms))
    if hit is not None and hit[0] is terms and hit[1] == len(terms):
        return hit[2]
    if len(_INDEXES) > 16:
        _INDEXES.clear()
    index = _make_index(terms)
    # the list is kept: its id is not reused meanwhile
    _INDEXES[id(terms)] = (terms, len(terms), index)
    return index


def _make_index(terms: list[Term]) -> dict[str, list[tuple[int, Term]]]:
    """Terms by the first run of letters and digits in them, lower-cased. A term can match a
    line only where that run stands in the line as a whole run (the term's edges and its own
    punctuation bound it), so a set lookup per word of the line picks the few terms to try."""
    out: dict[str, list[tuple[int, Term]]] = {}
    for i, t in enumerate(terms):
        m = _RUN.search(t.text)
        out.setdefault(m.group().lower() if m else "", []).append((i, t))
    return out


def line_words(line: str) -> set[str]:
    """The runs of letters and digits in `line`, lower-cased, and '' (what find_terms looks
    terms up by; a caller trying several term lists on one line computes it once)."""
    words = {w.lower() for w in _RUN.findall(line)}
    words.add("")  # terms without letters or digits are always tried
    return words


def find_terms(
    terms: list[Term], line: str, words: set[str] | None = None
) -> list[tuple[int, int, str]]:
    """(start, end, term) of each term in `line`, longest first, never overlapping."""
    index = _index(terms)
    if words is None:
        words = line_words(line)
    candidates = sorted(it for w in words.intersection(index) for it in index[w])
    if not candidates:
        return []
    found: list[tuple[int, int, str]] = []
    taken: list[tuple[int, int]] = []
    for _, t in candidates:  # in the list's order: longest first
        for m in t.pattern.finditer(line):
            s, e = m.span()
            if any(s < te and ts < e for ts, te in taken):
                continue
            taken.append((s, e))
            found.append((s, e, t.text))
    return sorted(found)
