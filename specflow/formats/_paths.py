"""Which words of a task title name files ("Add login endpoint in src/api/login.py").

Spec Kit leaves a task's files implicit in its title; the scheduler needs them so that two tasks
touching the same file never run at once. A word counts as a path when it has a known file
extension, or a `/` and any extension, or is a dotfile; prose such as "and/or", "e.g.",
"Node.js", versions, URLs, globs and directories (`src/`) does not.
"""

from __future__ import annotations

import re

KNOWN_EXTS = frozenset(
    "py pyi ts tsx js jsx mjs cjs json jsonc yaml yml toml ini cfg conf env md mdx rst txt "  # noqa: SIM905
    "rs go java kt kts scala swift m mm rb php cs fs vb c h cc cpp cxx hpp hh sql sh bash zsh "
    "ps1 bat html htm css scss sass less vue svelte astro dart ex exs erl hrl clj cljs lua pl r "
    "jl proto graphql gql prisma xml gradle tf hcl lock csv tsv ipynb j2 jinja tmpl tpl svg "
    "dockerfile mk cmake zig nim elm hs ml mli sol wasm".split()
)
KNOWN_NAMES = frozenset(("Dockerfile", "Makefile", "Procfile", "Gemfile", "Rakefile", "Justfile"))
NOT_FILES = frozenset(
    "node.js next.js vue.js nuxt.js react.js express.js three.js d3.js chart.js ember.js "  # noqa: SIM905
    "backbone.js socket.io nest.js solid.js alpine.js p5.js".split()
)
_STRIP = "`'\"()[]{}<>,;:!?*"
_NAME_RE = re.compile(r"[\w.+-]*\w\.(?P<ext>[A-Za-z][A-Za-z0-9]{0,9})")
_DOTFILE_RE = re.compile(r"\.[A-Za-z][\w.-]*")


def infer_files(title: str) -> list[str]:
    """Paths named in a task title, in order, without duplicates."""
    out: list[str] = []
    for word in title.split():
        token = word.strip(_STRIP).rstrip(".").strip(_STRIP)
        if token and looks_like_path(token) and token not in out:
            out.append(token)
    return out


def looks_like_path(token: str) -> bool:
    if "://" in token or token.startswith(("@", "#", "$", "-", "~")) or token.endswith("/"):
        return False
    if any(c in token for c in "*{}<>|=\\") or token.lower() in NOT_FILES:
        return False
    name = token.rsplit("/", 1)[-1]
    if name in KNOWN_NAMES or _DOTFILE_RE.fullmatch(name):
        return True
    m = _NAME_RE.fullmatch(name)
    return m is not None and (m.group("ext").lower() in KNOWN_EXTS or "/" in token)
