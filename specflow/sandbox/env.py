"""The environment an untrusted command gets: an allowlist, never specflow's own.

Names outside the allowlist are dropped (API keys, `DATABASE_URL`, cloud credentials, whatever
the user exported); a value that looks like a credential (a current secret's value, a
well-known key pattern, a URL with a password) is dropped even under an allowed name.
`[sandbox].pass_env` names more variables to pass (as they are: the user asked for them, e.g.
the API key a confined `cmd:` agent needs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

ALLOWED = frozenset(
    {
        "PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "LANGUAGE", "TERM", "TZ",
        "PYTHONPATH", "PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING", "VIRTUAL_ENV",
        "CONDA_PREFIX", "CONDA_DEFAULT_ENV", "JAVA_HOME", "GOPATH", "GOROOT", "GOFLAGS",
        "CARGO_HOME", "RUSTUP_HOME", "NODE_PATH", "NVM_DIR", "NVM_BIN", "UV_PYTHON",
        "PIP_DISABLE_PIP_VERSION_CHECK", "CI", "SOURCE_DATE_EPOCH",
    }
)  # fmt: skip
_ALLOWED_PREFIXES = ("LC_",)
# Pinned inside: plain output, no prompts, no bytecode in the worktree.
FIXED = {
    "PAGER": "cat",
    "GIT_PAGER": "cat",
    "NO_COLOR": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "PYTHONDONTWRITEBYTECODE": "1",
}
_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@", re.I)


def looks_secret(value: str, known: Iterable[str] = ()) -> bool:
    """A value that must not enter a sandbox: a known secret, a key shape, a URL password."""
    from specflow.redact import redact

    if _URL_PASSWORD.search(value):
        return True
    if any(k and k in value for k in known):
        return True
    return redact(value, secrets=[]) != value


def sandbox_env(
    base: Mapping[str, str],
    *,
    extra: Mapping[str, str] | None = None,
    pass_env: Iterable[str] = (),
) -> dict[str, str]:
    """`base` filtered to the allowlist (+ `pass_env`), then `extra` (set by specflow: the
    task id, the brief's path) and the pinned settings on top."""
    from specflow.redact import env_secrets

    known = env_secrets(base)
    asked = set(pass_env)  # named by the user in specflow.toml: passed as they are
    env = {
        k: v
        for k, v in base.items()
        if k in asked
        or ((k in ALLOWED or k.startswith(_ALLOWED_PREFIXES)) and not looks_secret(v, known))
    }
    env.update(extra or {})
    env.update(FIXED)
    return env
