"""One requirement sentence taken apart: EARS condition, actor, modal, response.

EARS (Mavin et al.): ubiquitous `THE <system> SHALL <response>`; event-driven `WHEN <trigger>,
THE <system> SHALL …`; state-driven `WHILE <state>, …`; unwanted behaviour `IF <condition>,
THEN THE <system> SHALL …`; optional feature `WHERE <feature>, …`; and their combinations. Kiro
writes `WHEN … THEN THE SYSTEM SHALL …`; Spec Kit writes `System MUST …`. All of them are a
subject, a strong modal (SHALL / MUST / SHOULD, optionally NOT) and a response.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# RFC 2119's keywords; MAY only in capitals (an optional feature), `may` is just a word.
# Spec Kit's translated templates keep the capitals: DEBE, DOIT, MUSS, DEVE.
MODAL_RE = re.compile(
    r"\b((?i:shall|must|should)|MAY|DEBEN?|DEBERÁN?|DOIT|DOIVENT|MUSS|MÜSSEN|SOLL|DEVEM?)\b"
    r"((?i:\s+not\b|\s+never\b|n't|\s+NO\b|\s+PAS\b|\s+NICHT\b|\s+NÃO\b))?"
)
WEAK_MODAL_RE = re.compile(r"\b(will|can|may|could|would|might|needs? to|has to|have to)\b", re.I)
EARS_RE = re.compile(
    r"^(when|whenever|while|if|where|after|before|once|as soon as|during|upon|unless|in case)\b",
    re.I,
)
ADVERB_RE = re.compile(r"^(?:\w+ly|always|also|only|still|then|not|never|be able to)\s+", re.I)
PARTICIPLE_RE = re.compile(
    r"^be\s+(?:\w+ly\s+)?(?P<p>\w+ed|shown|sent|written|kept|given|taken|made|done|built|"
    r"hidden|chosen|known|seen|held|set|put|read|run|found|told|paid|sold|left|lost|met|"
    r"thrown|drawn|driven|frozen|stolen|broken|spoken|won)\b",
    re.I,
)
NOT_PASSIVE = {"based", "required", "limited", "allowed", "expected", "supposed", "intended"}
INTERNAL_VERBS = re.compile(
    r"^(?:handle|manage|consider|deal with|understand|know|try to|attempt to|strive to|aim to|"
    r"seek to|leverage|utili[sz]e|facilitate|care about|optimi[sz]e|enhance|improve|"
    r"accommodate|take into account|take care of|be aware|be capable of|be designed to|"
    r"be ready for|be prepared|think about|look into)\b",
    re.I,
)
OUTCOME_RE = re.compile(
    r"\b(?:show|display|return|reject|refuse|log|record|report|print|exit|write|send|notify|"
    r"list|emit|raise|stop|fail|retry|save|store|block|prevent|respond|redirect|prompt|warn|"
    r"mark|create|delete|remove|keep|alert|include|produce|output|render|ask|deny|accept|"
    r"update|reset|lock|queue|retain|restore|resume|skip|abort|cancel|exit|highlight|"
    r"email|message|page|retry|roll back|fall back)(?:s|es|ed|ing)?\b|\d",
    re.I,
)
WORD_RE = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
THEN_RE = re.compile(r"\bthen\b|,", re.I)
BY_RE = re.compile(r"\bby\b", re.I)
STOP = {
    "the", "a", "an", "to", "of", "and", "or", "be", "is", "are", "for", "in", "on", "with",
    "that", "this", "it", "its", "their", "them", "by", "as", "at", "from", "any", "all",
}  # fmt: skip


@dataclass(frozen=True)
class Sentence:
    text: str
    modal: str | None  # shall / must / should, lower case
    modal_at: int  # index of the modal in text (-1 when there is none)
    negated: bool
    condition: str  # the EARS clause before the actor ('' for ubiquitous)
    subject: str
    response: str


def analyse(text: str) -> Sentence:
    m = MODAL_RE.search(text)
    if m is None:
        return Sentence(text, None, -1, False, "", "", "")
    prefix = text[: m.start()].strip()
    condition, subject = "", prefix
    if EARS_RE.match(prefix):
        cut = max((c.end() for c in THEN_RE.finditer(prefix)), default=len(prefix))
        condition, subject = prefix[:cut].strip(" ,"), prefix[cut:].strip(" ,")
        if not subject and cut == len(prefix):
            condition, subject = prefix, "?"  # `WHEN x the system SHALL`: actor not separable
    return Sentence(
        text=text,
        modal=m.group(1).lower(),
        modal_at=m.start(),
        negated=bool(m.group(2)),
        condition=condition,
        subject=subject,
        response=text[m.end() :].strip(),
    )


def core(response: str) -> str:
    """The response without leading adverbs and 'be able to'."""
    previous = None
    while previous != response:
        previous = response
        response = ADVERB_RE.sub("", response)
    return response


def passive_without_actor(s: Sentence) -> bool:
    if not s.response:
        return False
    m = PARTICIPLE_RE.match(core(s.response))
    if m is None or m["p"].lower() in NOT_PASSIVE:
        return False
    return BY_RE.search(s.response) is None


def lacks_outcome(s: Sentence) -> bool:
    response = core(s.response)
    return bool(INTERNAL_VERBS.match(response)) and OUTCOME_RE.search(response) is None


def tokens(text: str) -> list[str]:
    return [w for w in WORD_RE.findall(text.lower()) if w not in STOP]


def subject_key(s: Sentence) -> str:
    words = [w for w in tokens(f"{s.condition} {s.subject}") if w not in ("then",)]
    return " ".join(words)


def similarity(a: str, b: str) -> float:
    ta, tb = set(tokens(a)), set(tokens(b))
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / len(ta | tb)


def latin(text: str) -> bool:
    """Mostly Latin letters: the English-grammar rules (shape, outcome, voice) apply. A spec in
    Japanese or Chinese gets only the language-neutral rules."""
    if text.isascii():
        return True  # every letter, if any, is Latin
    prose = re.sub(r"`[^`]*`|\[[^\]]*\]|\b[A-Z][A-Za-z]*\b", " ", text)  # code, markers, names
    letters = [c for c in prose if c.isalpha()]
    if not letters:
        return True
    return sum(1 for c in letters if c < "\u0250") * 2 >= len(letters)
