"""The artifact store: front matter, hashes, versions, history, staleness, atomic writes.

An artifact is a Markdown file with a `specflow:` block in its YAML front matter recording how it
was made. Its state is derived, never stored:

- missing:  no file
- hand-written: a file with no specflow front matter (e.g. a Spec Kit artifact)
- edited:   the body no longer hashes to `output` — a person changed it
- stale:    an input changed since it was generated
- fresh:    every input hash matches
"""

from __future__ import annotations

import datetime as _dt
import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.errors import ArtifactConflict, ParseError
from specflow.fsutil import atomic_write_text
from specflow.inputstore import InputStore, text_hash
from specflow.project import Feature, Project

KINDS = ("spec", "plan", "tasks")
# Which files each artifact is generated from, relative to the feature folder ("@" = specs dir).
INPUTS: dict[str, tuple[str, ...]] = {
    "spec": ("feature.md",),
    "plan": ("spec.md", "@constitution.md"),
    "tasks": ("spec.md", "plan.md"),
}
MISSING, HANDWRITTEN, EDITED, STALE, FRESH = "missing", "hand-written", "edited", "stale", "fresh"
HISTORY_LIMIT = 200  # git commits searched for an old version of one input


@dataclass
class Provenance:
    artifact: str
    version: int
    inputs: dict[str, str]
    output: str
    template: str | None = None
    model: str | None = None
    usage: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    # Every template that shaped the artifact (prompts, their includes, the artifact's own
    # Markdown template): name -> sha256 of the source actually used (an override if any).
    templates: dict[str, str] = field(default_factory=dict)

    def to_meta(self) -> dict[str, Any]:
        block: dict[str, Any] = {
            "artifact": self.artifact,
            "version": self.version,
            "inputs": dict(self.inputs),
            "output": self.output,
            "template": self.template,
            "model": self.model,
            "usage": dict(self.usage),
            "created": self.created,
        }
        if self.templates:
            block["templates"] = dict(self.templates)
        block.update(self.extra)
        return {"specflow": block}

    @classmethod
    def from_meta(cls, meta: dict[str, Any], path: Path) -> Provenance | None:
        block = meta.get("specflow")
        if block is None:
            return None
        if not isinstance(block, dict):
            raise ParseError("front matter 'specflow' must be a mapping", path=str(path), line=1)
        known = {
            "artifact",
            "version",
            "inputs",
            "output",
            "template",
            "templates",
            "model",
            "usage",
            "created",
        }
        try:
            return cls(
                artifact=str(block.get("artifact", "")),
                version=int(block.get("version", 1)),
                inputs={str(k): str(v) for k, v in (block.get("inputs") or {}).items()},
                output=str(block.get("output", "")),
                template=block.get("template"),
                model=block.get("model"),
                usage=dict(block.get("usage") or {}),
                created=str(block.get("created", "")),
                extra={k: v for k, v in block.items() if k not in known},
                templates={str(k): str(v) for k, v in (block.get("templates") or {}).items()},
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise ParseError(
                f"front matter 'specflow' block is malformed: {exc}", path=str(path), line=1
            ) from None


@dataclass
class Artifact:
    kind: str
    path: Path
    text: str | None  # the whole file, None when missing
    body: str
    meta: dict[str, Any]
    provenance: Provenance | None
    state: str
    changed_inputs: list[str] = field(default_factory=list)

    @property
    def exists(self) -> bool:
        return self.text is not None

    @property
    def version(self) -> int:
        return self.provenance.version if self.provenance else (1 if self.exists else 0)


def now_iso() -> str:
    return (
        _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )


def body_hash(body: str) -> str:
    return text_hash(body)


_CHECKBOX = re.compile(r"^(\s*[-*] )\[[xX]\]", re.M)


def output_hash(kind: str, body: str) -> str:
    """The hash that decides "edited". Progress is not an edit: ticking a task's box
    (implement does it on merge, people do it by hand) leaves tasks.md as generated."""
    if kind == "tasks":
        body = _CHECKBOX.sub(r"\1[ ]", body)
    return body_hash(body)


class ArtifactStore:
    """Reads and writes the artifacts of one feature."""

    def __init__(
        self,
        project: Project,
        feature: Feature,
        *,
        snapshot: bool = False,
        shared: dict[Path, str] | None = None,
    ) -> None:
        self.project = project
        self.feature = feature
        # path -> (text, its split or the ParseError): a file's front matter is parsed once per
        # store while its text is the same (plan and tasks hash spec.md's body too).
        self._splits: dict[Path, tuple[str, Any]] = {}
        # A snapshot reads each file once (a read-only pass: check, status); otherwise every
        # read sees the file as it is now.
        self.snapshot = snapshot
        self._texts: dict[Path, str] = {}
        # A snapshot's inputs outside the feature folder (the constitution), shared by the
        # snapshots of one pass over many features.
        self._shared = shared if shared is not None else self._texts

    def _read_text(self, path: Path) -> str:
        if not self.snapshot:
            return self.project.read_text(path)
        texts = self._texts if path.parent == self.feature.path else self._shared
        text = texts.get(path)
        if text is None:
            text = texts[path] = self.project.read_text(path)
        return text

    def _split(self, path: Path) -> tuple[str, dict[str, Any] | None, str]:
        """(text, front matter or None, body) of an artifact; raises ParseError."""
        from specflow.formats.frontmatter import split_front_matter

        text = self._read_text(path)
        hit = self._splits.get(path)
        if hit is None or hit[0] != text:
            split: Any
            try:
                split = split_front_matter(text, self.project.rel(path))
            except ParseError as exc:
                split = exc
            hit = (text, split)
            self._splits[path] = hit
        split = hit[1]
        if isinstance(split, ParseError):
            raise split
        return text, split[0], split[1]

    # -- inputs ---------------------------------------------------------------------

    def input_path(self, name: str) -> Path:
        if name.startswith("@"):
            return self.project.specs_dir / name[1:]
        return self.feature.path / name

    def input_key(self, name: str) -> str:
        return name.lstrip("@")

    def input_text(self, name: str) -> str | None:
        """The content an input is hashed by: the body for artifacts, the whole file otherwise."""
        path = self.input_path(name)
        if not path.is_file():
            return None
        if path.stem not in KINDS:
            return self._read_text(path)
        try:
            return self._split(path)[2]
        except ParseError:
            return self._splits[path][0]

    def input_texts(self, kind: str) -> dict[str, str]:
        """What `kind` is generated from, by input name (`spec.md`), as hashed."""
        out: dict[str, str] = {}
        for name in INPUTS[kind]:
            text = self.input_text(name)
            if text is not None:
                out[self.input_key(name)] = text
        return out

    def current_inputs(self, kind: str) -> dict[str, str]:
        return {k: body_hash(v) for k, v in self.input_texts(kind).items()}

    def keep_inputs(self, kind: str) -> dict[str, str]:
        """Keep the exact text of each input where its hash finds it later; the hashes."""
        kept = InputStore(self.project.state_dir)
        return {k: kept.keep(v) for k, v in self.input_texts(kind).items()}

    # -- reading --------------------------------------------------------------------

    def read(self, kind: str) -> Artifact:
        path = self.feature.artifact(kind)
        if not path.is_file():
            return Artifact(kind, path, None, "", {}, None, MISSING)
        text, meta_or_none, body = self._split(path)
        meta = meta_or_none or {}
        prov = Provenance.from_meta(meta, path) if meta else None
        if prov is None:
            return Artifact(kind, path, text, body, meta, None, HANDWRITTEN)
        if prov.output and output_hash(kind, body) != prov.output:
            state = EDITED
        else:
            state = FRESH
        current = self.current_inputs(kind)
        changed = [k for k, v in prov.inputs.items() if current.get(k) != v]
        changed += [k for k in current if k not in prov.inputs and k != "constitution.md"]
        if changed and state == FRESH:
            state = STALE
        return Artifact(kind, path, text, body, meta, prov, state, changed)

    def history_path(self, kind: str, version: int) -> Path:
        return self.feature.history_dir / f"{kind}.v{version}.md"

    def history(self, kind: str) -> list[Path]:
        pattern = re.compile(rf"^{kind}\.v(\d+)\.md$")
        found = []
        if self.feature.history_dir.is_dir():
            for p in self.feature.history_dir.iterdir():
                m = pattern.match(p.name)
                if m:
                    found.append((int(m.group(1)), p))
        return [p for _, p in sorted(found)]

    def input_diff(self, kind: str, previous: Artifact, max_chars: int = 12000) -> str:
        """A unified diff of each input between what `previous` was made from and now.

        The old input text is found by the hash `previous` recorded: in `.specflow/inputs/`
        (every stage keeps its inputs there), the input's file and `.history/`, then the
        file's git history. When none has it, the text says so plainly.
        """
        if previous.provenance is None:
            return (
                f"(no diff: the previous {previous.path.name} was written by hand and records no "
                "input versions; compare it with the inputs above)"
            )
        chunks: list[str] = []
        for name in INPUTS[kind]:
            key = self.input_key(name)
            old_hash = previous.provenance.inputs.get(key)
            new_text = self.input_text(name) or ""
            if old_hash is None or body_hash(new_text) == old_hash:
                continue
            old_text = self.find_input(name, old_hash)
            if old_text is None:
                chunks.append(
                    f"(no diff for {key}: it changed since version {previous.version} of "
                    f"{previous.path.name}, but the text it was made from ({old_hash[:19]}…) "
                    "is kept nowhere — not in .specflow/inputs/, .history/ or git history; "
                    f"treat all of {key} as possibly changed)"
                )
                continue
            diff = difflib.unified_diff(
                old_text.splitlines(), new_text.splitlines(), f"a/{key}", f"b/{key}", lineterm=""
            )
            chunks.append("\n".join(diff))
        out = "\n".join(chunks)
        return out if len(out) <= max_chars else out[:max_chars] + "\n… (diff truncated)"

    def find_input(self, name: str, wanted: str) -> str | None:
        """The text of input `name` that hashes to `wanted`, wherever it was kept."""
        kept = InputStore(self.project.state_dir).get(wanted)
        if kept is not None:
            return kept
        path = self.input_path(name)
        candidates = [path]
        if path.stem in KINDS:
            candidates += list(reversed(self.history(path.stem)))
        for c in candidates:
            if not c.is_file():
                continue
            text = self._body_of(path, c.read_text(encoding="utf-8", errors="replace"))
            if text is not None and body_hash(text) == wanted:
                return text
        return self._find_in_git_history(path, wanted)

    def _find_in_git_history(self, path: Path, wanted: str) -> str | None:
        """The text of `path` in any commit (all refs) whose body hashes to `wanted`."""
        from specflow.workspace.git import Git

        if not path.parent.is_dir():
            return None
        git = Git(path.parent)
        log = git.run(
            "log", "--all", f"-n{HISTORY_LIMIT}", "--format=%H", "--", path.name, check=False
        )
        seen: set[str] = set()
        for commit in log.stdout.split() if log.returncode == 0 else []:
            blob = git.run(
                "rev-parse", "--verify", "--quiet", f"{commit}:./{path.name}", check=False
            )
            oid = blob.stdout.strip()
            if blob.returncode != 0 or oid in seen:
                continue
            seen.add(oid)
            raw = git.run("cat-file", "blob", oid, check=False)
            body = self._body_of(path, raw.stdout) if raw.returncode == 0 else None
            if body is not None and body_hash(body) == wanted:
                return body
        return None

    @staticmethod
    def _body_of(path: Path, raw: str) -> str | None:
        """What an input is hashed by: an artifact's body, any other file whole."""
        if path.stem not in KINDS:
            return raw
        from specflow.formats.frontmatter import split_front_matter

        try:
            return split_front_matter(raw)[1]
        except ParseError:
            return None

    # -- writing --------------------------------------------------------------------

    def check_writable(self, kind: str, *, force: bool) -> Artifact:
        """Refuse to replace a person's work without --force. Returns the current artifact."""
        current = self.read(kind)
        if force:
            return current
        if current.state == EDITED:
            raise ArtifactConflict(
                f"{current.path.name} was edited by hand since it was generated",
                f"rerun with --force to regenerate it (your version is kept in {self.feature.name}/.history/)",
            )
        if current.state == HANDWRITTEN:
            raise ArtifactConflict(
                f"{current.path.name} was written by hand (it has no specflow front matter)",
                "rerun with --force to replace it (your version is kept in .history/)",
            )
        return current

    def write(
        self,
        kind: str,
        body: str,
        *,
        inputs: dict[str, str] | None = None,
        template: str | None = None,
        templates: dict[str, str] | None = None,
        model: str | None = None,
        usage: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
        previous: Artifact | None = None,
    ) -> Artifact:
        """Write a new version atomically, keeping the previous one in .history/ and the
        inputs it was made from in .specflow/inputs/."""
        from specflow.formats.frontmatter import join_front_matter

        prev = previous if previous is not None else self.read(kind)
        body = body.strip() + "\n"
        if kind == "spec":  # requirement identity, for drift and change proposals
            extra = {**(extra or {}), "requirements": spec_requirement_hashes(body)}
        prov = Provenance(
            artifact=kind,
            version=(prev.provenance.version + 1) if prev.provenance else (2 if prev.exists else 1),
            inputs=inputs if inputs is not None else self.keep_inputs(kind),
            output=output_hash(kind, body),
            template=template,
            model=model,
            usage=usage or {},
            created=now_iso(),
            extra=extra or {},
            templates=templates or {},
        )
        text = join_front_matter(prov.to_meta(), body)
        if prev.text is not None:
            old_version = prev.provenance.version if prev.provenance else 1
            hist = self.history_path(kind, old_version)
            if hist.exists() and hist.read_text(encoding="utf-8", errors="replace") != prev.text:
                hist = self.history_path(kind, old_version).with_name(
                    f"{kind}.v{old_version}.{now_iso().replace(':', '')}.md"
                )
            atomic_write_text(hist, prev.text)
        atomic_write_text(self.feature.artifact(kind), text)
        return self.read(kind)


def spec_requirement_hashes(body: str) -> dict[str, str]:
    """A spec.md body's requirement hashes (an unparseable body has none)."""
    from specflow.domain.identity import requirement_hashes
    from specflow.formats.spec_md import parse_spec

    try:
        return requirement_hashes(parse_spec(body))
    except ParseError:
        return {}
