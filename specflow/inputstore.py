"""Every input text a stage used, findable later by the hash its artifact recorded.

Artifacts record each input by hash (`inputs: {spec.md: sha256:…}`). To show the model what
changed since, the old text must be found again — after a hand edit, a commit, a checkout. So
each stage keeps the exact text of its inputs in a content-addressed folder,
`.specflow/inputs/<first two hex digits>/<the other 62>`, named by the very hash the front
matter records (no second hash, no index). Why a folder and not `git hash-object -w`:

- it works in a project that is not (yet) a git repository;
- git prunes unreachable loose objects after two weeks (`gc.pruneExpire`), and an input that
  was never committed is exactly such an object;
- git names blobs by SHA-1 of the raw file, front matter included, while the recorded hash is
  the SHA-256 of the body, so a blob would still need a lookup table.

A clone elsewhere has no `.specflow/` (it is local state): there the artifact store looks the
text up in the file's git history instead (`git log --all`), which finds every committed version.
"""

from __future__ import annotations

from pathlib import Path

from specflow.fsutil import atomic_write_text, sha256_text


def text_hash(text: str) -> str:
    """The hash artifacts record for an input: its text, stripped, with one final newline."""
    return sha256_text(text.strip() + "\n")


class InputStore:
    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir / "inputs"

    def path_for(self, digest: str) -> Path | None:
        hexdigest = digest.removeprefix("sha256:")
        if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
            return None
        return self.dir / hexdigest[:2] / hexdigest[2:]

    def keep(self, text: str) -> str:
        """Store `text` (once) and return its hash."""
        digest = text_hash(text)
        path = self.path_for(digest)
        assert path is not None
        if not path.is_file():
            atomic_write_text(path, text.strip() + "\n")
        return digest

    def get(self, digest: str) -> str | None:
        path = self.path_for(digest)
        if path is None or not path.is_file():
            return None
        text = path.read_text(encoding="utf-8", errors="replace")
        return text if text_hash(text) == digest else None  # a damaged copy is no copy
