"""`specflow describe PATH…`: a spec of what existing code does, read from the code.

Files are read in chunks that fit a token budget (one model call per chunk; a file larger
than the budget is split by lines). Every requirement the model reports names the file and
symbol it was read from; a requirement naming a file that was not read is dropped, and one
naming a symbol that is not in its file is kept with an open question, so a person decides.
The spec records the files it read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from specflow.domain.spec import Requirement, Spec
from specflow.errors import InputError
from specflow.llm.base import Usage
from specflow.project import Feature, Project
from specflow.stages import pipeline
from specflow.stages.common import Generated, ModelChoice, chosen_model, generate
from specflow.stages.newfeature import create_feature
from specflow.stages.repomap import list_files, symbols

if TYPE_CHECKING:
    from typing_extensions import Unpack

CHARS_PER_TOKEN = 4
MAX_FILES = 300
MAX_FILE_BYTES = 1_000_000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Observed(_Model):
    text: str = Field(description="'System MUST …', true of the code as it is now")
    file: str = Field(description="repository path the behaviour was read from")
    symbol: str = Field(description="function, class or method, as written in the file")


class ObservedChunk(_Model):
    title: str = Field(description="a short name for what these files do")
    summary: str = ""
    requirements: list[Observed] = Field(default_factory=list)


@dataclass
class Piece:
    path: str
    text: str
    lines: str = ""  # "120-240" when the file was split


@dataclass
class Described:
    feature: Feature
    usage: Usage
    model: str
    files: list[str]
    chunks: int
    kept: int
    dropped: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)


def source_files(project: Project, paths: list[str], cwd: Path) -> list[str]:
    """Repository paths of the named files and the files under named folders. Checked before
    any model call: every path exists inside the project and holds text."""
    if not paths:
        raise InputError("missing PATH", "name the files or folders to describe")
    root = project.root.resolve()
    tracked = list_files(project.root, (project.config.project.specs_dir, ".specflow"))
    found: list[str] = []
    for arg in paths:
        target = (cwd / arg).resolve()
        try:
            rel = target.relative_to(root).as_posix()
        except ValueError:
            raise InputError(
                f"{arg} is outside the project", "name files in this project"
            ) from None
        if target.is_file():
            found.append(rel)
        elif target.is_dir():
            prefix = "" if rel == "." else rel + "/"
            found += [f for f in tracked if f.startswith(prefix)]
        else:
            raise InputError(f"{arg}: no such file or folder", "name existing files or folders")
    files = [f for f in dict.fromkeys(found) if _is_text(root / f)]
    if not files:
        raise InputError("no text files to describe under those paths", "name source files")
    if len(files) > MAX_FILES:
        raise InputError(
            f"{len(files)} files to describe, over {MAX_FILES}", "describe one area at a time"
        )
    return files


def _is_text(path: Path) -> bool:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return False
        head = path.read_bytes()[:8192]
    except OSError:
        return False
    return b"\x00" not in head


def chunk(root: Path, files: list[str], budget_tokens: int) -> list[list[Piece]]:
    """Pieces grouped so each group's text stays within the budget."""
    limit = max(budget_tokens * CHARS_PER_TOKEN, 2000)
    pieces: list[Piece] = []
    for rel in files:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        if len(text) <= limit:
            pieces.append(Piece(rel, text))
            continue
        lines = text.splitlines(keepends=True)
        start, size = 0, 0
        buf: list[str] = []
        for i, line in enumerate(lines):
            if buf and size + len(line) > limit:
                pieces.append(Piece(rel, "".join(buf), f"{start + 1}-{i}"))
                start, size = i, 0
                buf = []
            buf.append(line[:limit])
            size += len(buf[-1])
        pieces.append(Piece(rel, "".join(buf), f"{start + 1}-{len(lines)}"))
    groups: list[list[Piece]] = []
    size = limit + 1
    for p in pieces:
        if size + len(p.text) > limit:
            groups.append([])
            size = 0
        groups[-1].append(p)
        size += len(p.text)
    return groups


def symbol_in(root: Path, rel: str, symbol: str) -> bool:
    """The symbol's last part (`Cart.total` -> `total`) is defined or named in the file."""
    name = re.split(r"[.:#]+", symbol.strip().removeprefix("def ").removeprefix("class "))[-1]
    name = name.split("(")[0].strip()
    if not name:
        return False
    known = {s.split()[-1].split("(")[0] for s in symbols(root / rel)}
    if name in known:
        return True
    text = (root / rel).read_text(encoding="utf-8", errors="replace")
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", text) is not None


def describe(
    project: Project,
    paths: list[str],
    *,
    cwd: Path,
    budget_tokens: int = 6000,
    **choice: Unpack[ModelChoice],
) -> Described:
    files = source_files(project, paths, cwd)
    groups = chunk(project.root, files, budget_tokens)
    llm = chosen_model(project, "specify", choice)
    base = pipeline._context(project, None, "spec")
    answers: list[tuple[ObservedChunk, set[str]]] = []
    gen: Generated | None = None
    usage = Usage()
    for i, group in enumerate(groups, 1):
        ctx = {**base, "files": group, "part": i, "parts": len(groups)}
        gen = generate(
            project,
            stage="specify",
            template="describe.md.j2",
            output=ObservedChunk,
            model=llm,
            context=ctx,
        )
        usage = usage + gen.usage
        answers.append((gen.value, {p.path for p in group}))
    assert gen is not None
    spec, dropped, unverified = _merge(project.root, answers)
    body = _render(spec, files)
    text = "Describe the current behaviour of: " + ", ".join(paths) + "\n"
    total = Generated(spec, usage, gen.model, gen.template, 0, gen.templates)
    extra = {"describe": {"files": files, "dropped": len(dropped)}}
    shaped = {"spec": "artifacts/spec.md.j2"}
    feature = create_feature(project, spec.title, text, {"spec": body}, total, extra, shaped)
    return Described(
        feature, usage, gen.model, files, len(groups), len(spec.requirements), dropped, unverified
    )


def _merge(
    root: Path, answers: list[tuple[ObservedChunk, set[str]]]
) -> tuple[Spec, list[str], list[str]]:
    """One spec from the chunks' answers: requirements numbered in order, duplicates merged,
    those naming a file that was not read dropped, unknown symbols marked as questions."""
    dropped: list[str] = []
    unverified: list[str] = []
    reqs: list[Requirement] = []
    seen: set[str] = set()
    for answer, read in answers:
        for ob in answer.requirements:
            where = f"{ob.file}: {ob.symbol}"
            if ob.file not in read:
                dropped.append(where)
                continue
            key = " ".join(ob.text.lower().split())
            if key in seen:
                continue
            seen.add(key)
            note = f"*(observed in `{ob.file}`, `{ob.symbol}`)*"
            if not symbol_in(root, ob.file, ob.symbol):
                unverified.append(where)
                note += f" [NEEDS CLARIFICATION: {ob.symbol} is not in {ob.file}; keep this?]"
            text = " ".join(ob.text.replace("[", "(").replace("]", ")").split())
            reqs.append(Requirement(id=f"FR-{len(reqs) + 1:03d}", text=f"{text} {note}"))
    first = answers[0][0]
    summaries = list(dict.fromkeys(a.summary.strip() for a, _ in answers if a.summary.strip()))
    summary = "Current behaviour, described from the code as it is.\n\n" + "\n\n".join(summaries)
    spec = Spec(title=first.title, summary=summary.strip(), requirements=reqs)
    return spec, dropped, unverified


def _render(spec: Spec, files: list[str]) -> str:
    from specflow.formats.spec_md import render_spec

    listed = "\n".join(f"- `{f}`" for f in files)
    return render_spec(spec).rstrip() + f"\n\n## Files Read\n\n{listed}\n"
