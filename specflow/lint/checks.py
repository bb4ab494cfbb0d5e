"""The rules themselves: a parsed Document in, line-precise findings out."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field

from specflow.lint import sentence as S
from specflow.lint.document import CLARIFY_RE, Document, Statement, parse
from specflow.lint.rules import RULES
from specflow.lint.words import Term, find_terms, line_words

NUMBER_RE = re.compile(
    r"\d|%|\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|thousand|million|half|twice|once|single|percent)\b",
    re.I,
)
THRESHOLD_RE = re.compile(
    r"\b(?:all|every|none|no|never|equal|equals|identical|exactly|same as|the same)\b|"
    # the same words in Spec Kit's translated specs (Spanish, Portuguese, French, German)
    r"\b(?:tod[oa]s?|cada|ningun[oa]?|nenhum[a]?|cero|zero|tous|toutes|chaque|aucun|alle|jede[rs]?|kein[e]?)\b|"
    r"\bwithout (?:any )?(?:errors?|failures?|warnings?|loss)\b",
    re.I,
)
# `a reasonable length (50 characters max)`: the vague word comes with its number.
QUANTIFIED_AFTER_RE = re.compile(r"^[^.;]{0,40}?\([^)]*\d")
SCENARIO_PART_RE = re.compile(r"\b(given|when|then)\b", re.I)
DUPLICATE_SIMILARITY = 0.9  # at ~10 words: one word may differ
# A list marker and the spaces around it at the start of a line.
LEAD_RE = re.compile(r"^\s*(?:[-*+]|\d+[.)])?\s*")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    path: str
    line: int  # 1-based
    column: int  # 1-based
    message: str
    hint: str
    end_column: int | None = None

    @property
    def code(self) -> str:
        return self.rule

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Settings:
    """What to check: rules switched off, severities changed, the word lists."""

    vague: list[Term]
    technologies: list[Term]
    disabled: set[str] = field(default_factory=set)
    severity: dict[str, str] = field(default_factory=dict)


@dataclass
class _Run:
    doc: Document
    path: str
    settings: Settings
    findings: list[Finding] = field(default_factory=list)
    words: dict[int, set[str]] = field(default_factory=dict)  # line -> line_words (memo)

    def add(
        self,
        rule: str,
        st: Statement | None,
        line0: int,
        col0: int,
        message: str,
        end_col0: int | None = None,
    ) -> None:
        if rule in self.settings.disabled:
            return
        span = (st.start, max(st.end, st.start + 1)) if st is not None else (line0, line0 + 1)
        if self.doc.is_disabled(rule, *span) or self.doc.is_disabled(rule, line0):
            return
        r = RULES[rule]
        self.findings.append(
            Finding(
                rule=rule,
                severity=self.settings.severity.get(rule, r.severity),
                path=self.path,
                line=line0 + 1,
                column=col0 + 1,
                message=message,
                hint=r.hint,
                end_column=None if end_col0 is None else end_col0 + 1,
            )
        )


def lint_text(text: str, path: str, settings: Settings) -> list[Finding]:
    run = _Run(parse(text), path, settings)
    for check in CHECKS:
        check(run)
    run.findings.sort(key=lambda f: (f.line, f.column, f.rule))
    return run.findings


def _label(st: Statement) -> str:
    return st.ident or {"criterion": "the success criterion"}.get(st.kind, f"the {st.kind}")


def _start_col(run: _Run, st: Statement) -> int:
    line = run.doc.masked[st.start]
    m = LEAD_RE.match(line)
    return m.end() if m else 0


def _of(run: _Run, kind: str) -> Iterator[Statement]:
    return (s for s in run.doc.statements if s.kind == kind and S.latin(s.text))


# -- requirements -----------------------------------------------------------------------


def check_shape(run: _Run) -> None:
    for st in _of(run, "requirement"):
        s = S.analyse(st.text)
        col = _start_col(run, st)
        if s.modal is None:
            weak = S.WEAK_MODAL_RE.search(st.text)
            if weak:
                why = f"says '{weak.group(1)}', not SHALL or MUST"
            elif S.EARS_RE.match(st.text):
                why = f"its {st.text.split()[0].upper()} clause has no SHALL/MUST response"
            else:
                why = "has no SHALL or MUST"
            run.add("requirement-shape", st, st.start, col, f"{_label(st)} {why}")
        elif not s.subject:
            run.add("requirement-shape", st, st.start, col, f"{_label(st)} names no actor")


def check_outcome(run: _Run) -> None:
    for st in _of(run, "requirement"):
        s = S.analyse(st.text)
        if s.modal is not None and S.lacks_outcome(s):
            verb = S.core(s.response).split()[0]
            run.add(
                "no-observable-outcome",
                st,
                st.start,
                _start_col(run, st),
                f"{_label(st)}: '{verb}' is not something a test can observe",
            )
        if s.modal is not None and S.passive_without_actor(s):
            run.add(
                "passive-voice",
                st,
                st.start,
                _start_col(run, st),
                f"{_label(st)} is passive and names no actor",
            )


def check_duplicates(run: _Run) -> None:
    seen: list[tuple[Statement, S.Sentence, str]] = []  # with the subject key
    for st in _of(run, "requirement"):
        s = S.analyse(st.text)
        if s.modal is None:
            continue
        key = S.subject_key(s)
        for prev, ps, prev_key in seen:
            if prev_key != key:
                continue
            sim = S.similarity(s.response, ps.response)
            if sim < DUPLICATE_SIMILARITY or len(S.tokens(s.response)) < 2:
                continue
            col = _start_col(run, st)
            if ps.negated != s.negated:
                run.add(
                    "conflicting-requirements",
                    st,
                    st.start,
                    col,
                    f"{_label(st)} contradicts {prev.ident or 'the requirement'} (line {prev.line}): "
                    f"{_modal(ps)} versus {_modal(s)} on the same subject",
                )
            else:
                run.add(
                    "duplicate-requirement",
                    st,
                    st.start,
                    col,
                    f"{_label(st)} repeats {prev.ident or 'the requirement'} (line {prev.line})",
                )
            break
        seen.append((st, s, key))


def _modal(s: S.Sentence) -> str:
    return (s.modal or "").upper() + (" NOT" if s.negated else "")


# -- criteria and scenarios -------------------------------------------------------------


def check_criteria(run: _Run) -> None:
    for st in _of(run, "criterion"):
        if NUMBER_RE.search(st.text) or THRESHOLD_RE.search(st.text):
            continue
        run.add(
            "unmeasurable-criterion",
            st,
            st.start,
            _start_col(run, st),
            f"{_label(st)} has no number or threshold",
        )


def check_scenarios(run: _Run) -> None:
    for st in _of(run, "scenario"):
        block = run.doc.lines[st.start].lstrip().startswith("#")
        needed = ("when", "then") if block else ("given", "when", "then")
        present: set[str] = set()
        parts = SCENARIO_PART_RE.split(st.text)
        for i in range(1, len(parts) - 1, 2):
            if parts[i + 1].strip(" ,.;:-"):
                present.add(parts[i].lower())
        missing = [p.capitalize() for p in needed if p not in present]
        if missing:
            run.add(
                "incomplete-scenario",
                st,
                st.start,
                _start_col(run, st),
                f"scenario has no {'/'.join(missing)} part",
            )


# -- words ------------------------------------------------------------------------------


def _scan_words(
    run: _Run,
    kinds: tuple[str, ...],
    terms: list[Term],
    rule: str,
    say: Callable[[str], str],
    keep: Callable[[str, int], bool] = lambda line, end: True,
) -> None:
    for st in run.doc.statements:
        if st.kind not in kinds:
            continue
        for i in (i for a, b in st.spans for i in range(a, b)):
            line = run.doc.masked[i]
            words = run.words.get(i)
            if words is None:
                words = run.words[i] = line_words(line)
            for start, end, word in find_terms(terms, line, words):
                if keep(run.doc.visible[i], end):
                    run.add(rule, st, i, start, say(run.doc.lines[i][start:end] or word), end)


def check_vague(run: _Run) -> None:
    _scan_words(
        run,
        ("requirement", "criterion", "scenario"),
        run.settings.vague,
        "vague-term",
        lambda w: f"'{w}' is vague: how would a test decide it?",
        keep=lambda line, end: QUANTIFIED_AFTER_RE.match(line[end:]) is None,
    )


def check_technology(run: _Run) -> None:
    _scan_words(
        run,
        ("requirement", "criterion"),
        run.settings.technologies,
        "technology-in-spec",
        lambda w: f"'{w}' is a technology choice; a spec says what, the plan says how",
    )


def check_clarifications(run: _Run) -> None:
    for i, line in enumerate(run.doc.masked):
        for m in CLARIFY_RE.finditer(line):
            question = run.doc.lines[i][m.start() : m.end()]
            run.add(
                "open-clarification",
                None,
                i,
                m.start(),
                f"open question: {question}",
                m.end(),
            )


CHECKS: list[Callable[[_Run], None]] = [
    check_shape,
    check_outcome,
    check_duplicates,
    check_criteria,
    check_scenarios,
    check_vague,
    check_technology,
    check_clarifications,
]
