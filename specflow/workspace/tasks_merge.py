"""A three-way merge of tasks.md that knows what a tick is.

The integration branch ticks boxes (`- [ ]` -> `- [x]`) as tasks merge; meanwhile the user
adds, edits or removes tasks on the base branch. Git's line merge calls that a conflict when a
ticked line sits next to an edited one. When one side changed nothing but ticks, the merge is
the other side's text with those ticks applied to the tasks it still has: no conflict, no
edit lost. When both sides changed more than ticks, it is a real conflict (None).
"""

from __future__ import annotations

import re

_BOX = re.compile(r"^([ \t>]*(?:[-*+]|\d+[.)])[ \t]+\[)([ xX])(\][ \t]+\**(T\d{3,}[a-z]?)\b)", re.M)


def boxes(text: str) -> dict[str, bool]:
    """Every task's box in the text: id -> ticked."""
    return {m.group(4): m.group(2) in "xX" for m in _BOX.finditer(text)}


def ticked(text: str) -> set[str]:
    """Ids of the tasks whose box is ticked."""
    return {tid for tid, done in boxes(text).items() if done}


def unticked(text: str) -> str:
    """The text with every task box empty: what is left when ticks are ignored."""
    return _BOX.sub(lambda m: m.group(1) + " " + m.group(3), text)


def tick(text: str, ids: set[str]) -> str:
    """Tick these tasks' boxes; every other byte stays. Ids not in the text are ignored."""
    return _BOX.sub(
        lambda m: m.group(1) + ("x" if m.group(4) in ids else m.group(2)) + m.group(3), text
    )


def merge_tasks(base: str, ours: str, theirs: str) -> str | None:
    """Merge two descendants of `base`; None when both changed more than ticks."""
    plain = unticked(base)
    if unticked(ours) == plain:
        return tick(theirs, ticked(ours) - ticked(base))
    if unticked(theirs) == plain:
        return tick(ours, ticked(theirs) - ticked(base))
    return None
