"""What the report draws, computed from a trace: timeline segments, a layered graph layout, and
spend per task, model and stage. Pure data; svg.py turns it into markup."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from specflow.observe.trace import RunTrace

STAGES = ("spec", "plan", "tasks")


@dataclass
class Segment:
    lane: int
    task: str
    kind: str  # agent, agent-failed, verify, verify-failed, wait, merge
    start: float
    end: float
    attempt: int = 1
    label: str = ""


@dataclass
class Mark:
    lane: int
    task: str
    kind: str  # merged, failed
    t: float


@dataclass
class Timeline:
    t0: float
    t1: float
    lanes: list[int] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    marks: list[Mark] = field(default_factory=list)


def timeline(trace: RunTrace) -> Timeline:
    t0 = trace.started or 0.0
    t1 = max(trace.ended or t0, t0 + 0.001)
    tl = Timeline(t0, t1)
    lanes: set[int] = set()
    for tt in trace.tasks.values():
        if tt.slot is None or not tt.attempts:
            continue
        lane = int(tt.slot)
        lanes.add(lane)
        for a in tt.attempts:
            if a.started is not None:
                end = a.finished or _next_time(a) or t1
                kind = "agent" if a.ok is not False else "agent-failed"
                label = f"{tt.id} #{a.n}" if len(tt.attempts) > 1 else tt.id
                tl.segments.append(Segment(lane, tt.id, kind, a.started, end, a.n, label))
            last_verified: float | None = None
            for v in a.verifies:
                kind = "verify" if v.ok is not False else "verify-failed"
                end = v.end or t1
                tl.segments.append(Segment(lane, tt.id, kind, v.t, end, a.n, "verify"))
                if v.ok:
                    last_verified = end
            merge_start: float | None = None
            for m in a.merges:
                t = float(m.get("t", 0.0))
                if m.get("kind") == "merge_started":
                    if last_verified is not None and t - last_verified > 0.01:
                        tl.segments.append(
                            Segment(lane, tt.id, "wait", last_verified, t, a.n, "queue")
                        )
                    merge_start, last_verified = t, None
                elif m.get("kind") == "task_merged" and merge_start is not None:
                    tl.segments.append(Segment(lane, tt.id, "merge", merge_start, t, a.n, "merge"))
                    tl.marks.append(Mark(lane, tt.id, "merged", t))
                elif m.get("kind") in ("merge_retry", "merge_conflict") and merge_start is not None:
                    tl.segments.append(Segment(lane, tt.id, "merge", merge_start, t, a.n, "merge"))
                    merge_start = None
        if tt.status == "failed" and tt.ended:
            tl.marks.append(Mark(lane, tt.id, "failed", tt.ended))
    tl.lanes = sorted(lanes)
    return tl


def _next_time(a: Any) -> float | None:
    times = [float(s.get("t", 0.0)) for s in a.steps]
    return max(times) if times else None


# -- graph layout ---------------------------------------------------------------------------


@dataclass
class Layout:
    layers: list[list[str]]
    pos: dict[str, tuple[int, int]]  # task -> (layer, index in layer)
    edges: list[tuple[str, str]]


def layered_layout(nodes: list[str], deps: dict[str, list[str]]) -> Layout:
    """Layer = longest dependency chain from a root; order inside a layer by the barycentre of
    the neighbours (two sweeps), which keeps most edges from crossing."""
    depth: dict[str, int] = {}

    def level(n: str, seen: frozenset[str] = frozenset()) -> int:
        if n in depth:
            return depth[n]
        parents = [p for p in deps.get(n, []) if p in nodes and p not in seen]
        depth[n] = 1 + max((level(p, seen | {n}) for p in parents), default=-1)
        return depth[n]

    for n in nodes:
        level(n)
    layers: list[list[str]] = [[] for _ in range(max(depth.values(), default=-1) + 1)]
    for n in nodes:
        layers[depth[n]].append(n)
    edges = [(p, n) for n in nodes for p in deps.get(n, []) if p in depth]
    children: dict[str, list[str]] = {n: [] for n in nodes}
    for p, c in edges:
        children[p].append(c)
    for sweep in range(2):
        rng = range(1, len(layers)) if sweep == 0 else range(len(layers) - 2, -1, -1)
        for i in rng:
            ref = layers[i - 1] if sweep == 0 else layers[i + 1]
            index = {n: k for k, n in enumerate(ref)}
            near = (lambda n: deps.get(n, [])) if sweep == 0 else (lambda n: children[n])

            here = {n: float(k) for k, n in enumerate(layers[i])}
            centres = {}
            for n in layers[i]:
                ks = [index[m] for m in near(n) if m in index]
                centres[n] = sum(ks) / len(ks) if ks else here[n]
            layers[i].sort(key=lambda n, c=centres: c[n])  # type: ignore[misc]
    pos = {n: (li, k) for li, layer in enumerate(layers) for k, n in enumerate(layer)}
    return Layout(layers, pos, edges)


# -- spend ----------------------------------------------------------------------------------


@dataclass
class Spend:
    name: str
    cost_usd: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    note: str = ""
    cached_tokens: int = 0  # of prompt_tokens, served from the provider's prompt cache


def spend_by_task(trace: RunTrace) -> list[Spend]:
    out = []
    for tt in trace.tasks.values():
        if not tt.attempts:
            continue
        u = tt.usage
        calls = sum(1 for a in tt.attempts for s in a.steps if s.get("kind") == "model_call")
        out.append(
            Spend(
                tt.id,
                float(u.get("cost_usd", 0.0)),
                int(u.get("prompt_tokens", 0)),
                int(u.get("completion_tokens", 0)),
                calls,
                f"{len(tt.attempts)} attempt(s)",
                int(u.get("cached_tokens", 0)),
            )
        )
    return out


def spend_by_model(trace: RunTrace) -> list[Spend]:
    """From the agents' model_call events; an agent that reports usage but no calls (a CLI
    agent) is counted under the run's model."""
    by: dict[str, Spend] = {}
    for tt in trace.tasks.values():
        for a in tt.attempts:
            calls = [s for s in a.steps if s.get("kind") == "model_call"]
            if not calls and a.usage:
                calls = [{"model": a.model or trace.info.get("model") or a.agent, **a.usage}]
            for c in calls:
                name = str(c.get("model") or "?")
                s = by.setdefault(name, Spend(name))
                s.cost_usd += float(c.get("cost_usd") or 0.0)
                s.prompt_tokens += int(c.get("prompt_tokens") or 0)
                s.completion_tokens += int(c.get("completion_tokens") or 0)
                s.cached_tokens += int(c.get("cached_tokens") or 0)
                s.calls += 1
    return sorted(by.values(), key=lambda s: -s.cost_usd)


def spend_by_stage(feature_dir: Path | None, trace: RunTrace) -> list[Spend]:
    """specify/plan/tasks from their artifacts' front matter (`specflow.usage`), implement from
    this run."""
    out: list[Spend] = []
    if feature_dir is not None:
        from specflow.formats.frontmatter import split_front_matter

        for kind in STAGES:
            path = feature_dir / f"{kind}.md"
            try:
                meta, _ = split_front_matter(path.read_text(encoding="utf-8"), str(path))
            except Exception:  # missing or unparsable: that stage just shows nothing
                continue
            sf = (meta or {}).get("specflow") or {}
            usage = sf.get("usage") or {}
            if not usage:
                continue
            out.append(
                Spend(
                    kind,
                    float(usage.get("cost_usd") or 0.0),
                    int(usage.get("prompt_tokens") or 0),
                    int(usage.get("completion_tokens") or 0),
                    1,
                    f"v{sf.get('version', '?')} · {sf.get('model', '?')}",
                    int(usage.get("cached_tokens") or 0),
                )
            )
    u = trace.usage()
    calls = sum(s.calls for s in spend_by_model(trace))
    out.append(
        Spend(
            "implement",
            u["cost_usd"],
            int(u["prompt_tokens"]),
            int(u["completion_tokens"]),
            calls,
            f"run {trace.run_id}",
            int(u.get("cached_tokens", 0)),
        )
    )
    return out
