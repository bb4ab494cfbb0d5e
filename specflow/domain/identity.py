"""Requirement identity: a stable content hash of each requirement's normalised text.

The hash ignores what does not change a requirement's meaning — whitespace and line wrapping,
Markdown emphasis and code marks, the id itself and its position in the spec — so re-wrapping
or reordering requirements keeps every hash, while any change of wording gives a new one.
Pure: text in, hash out. `specify` records the hashes in spec.md's front matter
(`specflow.requirements`); a spec without them is hashed on the fly.
"""

from __future__ import annotations

import hashlib
import re

from specflow.domain.spec import Spec

_EMPHASIS = re.compile(r"\*+|`+|(?<!\w)_+|_+(?!\w)|~~")
_SPACE = re.compile(r"\s+")
HASH_LEN = 12


def normalise(text: str) -> str:
    """The requirement's words: emphasis and code marks dropped, whitespace collapsed."""
    return _SPACE.sub(" ", _EMPHASIS.sub("", text)).strip()


def requirement_hash(text: str) -> str:
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()[:HASH_LEN]


def requirement_hashes(spec: Spec) -> dict[str, str]:
    """Every FR-### and SC-### of `spec` -> its hash, in id order (order-insensitive)."""
    items = [(r.id, r.text) for r in spec.requirements]
    items += [(c.id, c.text) for c in spec.success_criteria]
    return {rid: requirement_hash(text) for rid, text in sorted(items)}
