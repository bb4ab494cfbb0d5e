"""plan.md in GitHub Spec Kit's layout (templates/plan-template.md), plus design notes and risks.

The constitution check is rendered as the table Spec Kit plans use in practice
(`| Gate | Status | Notes |`, status PASS / FAIL / N/A); a checkbox list
(`- [x] Gate — note`, `- [ ]` = fail, `- [-]` = n/a) is read as well.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from specflow.domain.plan import ContextItem, GateCheck, Justification, Plan, Risk
from specflow.errors import ParseError
from specflow.formats._md import LABEL_RE, Block, Doc, norm_heading, prose

TITLE_RE = re.compile(r"^(?:implementation\s+)?plan(?:\s*:|\s+[-–—])\s*", re.IGNORECASE)
CONTEXT_LINE_RE = re.compile(r"^(?:[-*+][ \t]+)?" + LABEL_RE.pattern[1:])
GATE_ITEM_RE = re.compile(r"^\[(?P<mark>[ xX~-]|n/a|N/A)\][ \t]*(?P<rest>.*)$", re.DOTALL)
# Between a gate or risk and its note: an em dash, an en dash or a spaced hyphen.
SEP_RE = re.compile(r"\s+[—–-]\s+|\s+[—–]$")
Status = Literal["pass", "fail", "n/a"]
STATUS_WORDS = {"pass": "PASS", "fail": "FAIL", "n/a": "N/A"}


def parse_plan(body: str, path: str | None = None) -> Plan:
    doc = Doc(body)
    title_block = doc.title()
    if title_block is None:
        raise ParseError(
            "no title heading ('# Implementation Plan: …')",
            path=path,
            line=doc.first_content_line(),
            hint="start the plan with '# Implementation Plan: <feature name>'",
        )
    title = TITLE_RE.sub("", title_block.text).strip()
    if not title:
        raise ParseError("the title heading is empty", path=path, line=title_block.start + 1)
    plan = Plan(title=title)
    blocks = doc.blocks
    for i in doc.headings():
        name = norm_heading(blocks[i].text)
        section = doc.section(i)
        if name == "summary" and not plan.summary:
            plan.summary = prose(doc, section)
        elif name.startswith("technical context"):
            plan.technical_context += _context(doc, section)
        elif name.startswith("constitution check"):
            plan.constitution_check += _gates(section)
        elif name.startswith("complexity tracking"):
            plan.complexity_tracking += _justifications(section)
        elif name.startswith(("project structure", "structure decision")) and not plan.structure:
            plan.structure = doc.raw(blocks[i].end, doc.section_end(i))
        elif name.startswith("design notes"):
            plan.design_notes += [it.flat for b in section for it in b.items]
        elif name.startswith("risk"):
            for b in section:
                for it in b.items:
                    risk, note = _split_note(it.flat)
                    plan.risks.append(Risk(risk=risk, mitigation=note))
    return plan


def render_plan(plan: Plan, project_root: Path | None = None) -> str:
    from specflow.templating import render

    return render("artifacts/plan.md.j2", project_root, plan=plan, cell=_cell, status=_status)


# -- internals ---------------------------------------------------------------------------


def _context(doc: Doc, section: list[Block]) -> list[ContextItem]:
    out: list[ContextItem] = []
    for block in section:
        if block.type not in ("paragraph", "bullet_list"):
            continue
        for line in doc.raw(block.start, block.end).split("\n"):
            m = CONTEXT_LINE_RE.match(line.strip())
            if m:
                out.append(ContextItem(key=m["label"].strip(), value=m["rest"].strip()))
            elif out and line.strip():  # a value wrapped onto the next line
                out[-1].value = f"{out[-1].value} {line.strip()}".strip()
    return out


def _gates(section: list[Block]) -> list[GateCheck]:
    out: list[GateCheck] = []
    for block in section:
        if block.type == "table" and block.rows:
            out += _gate_table(block.rows, block.start)
        for it in block.items:
            m = GATE_ITEM_RE.match(it.flat)
            if m is None:
                continue
            mark = m["mark"].lower()
            gate, note = _split_note(m["rest"])
            state: Status = "pass" if mark == "x" else "fail" if mark == " " else "n/a"
            out.append(GateCheck(gate=gate, status=state, note=note, line=it.line + 1))
    return out


def _justifications(section: list[Block]) -> list[Justification]:
    """Spec Kit's `| Violation | Why Needed | Simpler Alternative Rejected Because |`."""
    out: list[Justification] = []
    for block in section:
        if block.type != "table" or len(block.rows) < 2:
            continue
        for row in block.rows[1:]:
            cells = [*row, "", "", ""]
            if cells[0].strip():
                out.append(
                    Justification(
                        violation=cells[0].strip(),
                        why_needed=cells[1].strip(),
                        simpler_alternative_rejected=cells[2].strip(),
                    )
                )
    return out


def _gate_table(rows: list[list[str]], start: int) -> list[GateCheck]:
    header = [h.lower() for h in rows[0]]
    status_col = next((i for i, h in enumerate(header) if "status" in h or "result" in h), None)
    gate_col = next(
        (i for i, h in enumerate(header) if any(w in h for w in ("gate", "principle", "check"))),
        0,
    )
    out: list[GateCheck] = []
    for n, row in enumerate(rows[1:]):
        if not row or gate_col >= len(row):
            continue
        raw_status = row[status_col] if status_col is not None and status_col < len(row) else ""
        notes = [c for i, c in enumerate(row) if i not in (gate_col, status_col) and c]
        state = _read_status(raw_status)
        note = " ".join(notes)
        if state is None:  # keep what the author wrote rather than guess
            state, note = "fail", f"{raw_status}: {note}" if note else raw_status
        # header and separator lines come first; `start` is 0-based
        out.append(GateCheck(gate=row[gate_col], status=state, note=note, line=start + 3 + n))
    return out


def _read_status(text: str) -> Status | None:
    t = text.lower()
    if not t or "n/a" in t or "not applicable" in t or t.strip() in ("na", "➖", "-", "—"):
        return "n/a"
    if "fail" in t or "❌" in t or "✗" in t or "violat" in t:
        return "fail"
    if any(c in t for c in "✅✓✔") or re.search(r"\b(pass\w*|ok|yes|compliant|met)\b", t):
        return "pass"
    return None


def _split_note(text: str) -> tuple[str, str]:
    m = SEP_RE.search(text)
    if m is None:
        return text.strip(), ""
    return text[: m.start()].strip(), text[m.end() :].strip()


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _status(value: str) -> str:
    return STATUS_WORDS[value]
