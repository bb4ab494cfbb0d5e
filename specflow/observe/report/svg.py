"""Inline SVG for the report: the timeline (lanes = agent slots) and the task graph."""

from __future__ import annotations

from html import escape

from specflow.observe.report.data import Layout, Timeline

COLOURS = {
    "agent": "#4f7cff",
    "agent-failed": "#e5484d",
    "verify": "#30a46c",
    "verify-failed": "#f76b15",
    "wait": "url(#hatch)",
    "merge": "#8e4ec6",
}
STATUS_FILL = {
    "merged": "#d3f9d8",
    "failed": "#ffe3e3",
    "blocked": "#fff3bf",
    "pending": "#f1f3f5",
    "running": "#dbe4ff",
    "verifying": "#dbe4ff",
    "merging": "#e5dbff",
}
STATUS_STROKE = {
    "merged": "#2b8a3e",
    "failed": "#c92a2a",
    "blocked": "#e67700",
    "pending": "#868e96",
    "running": "#364fc7",
    "verifying": "#364fc7",
    "merging": "#6741d9",
}

LANE_H, BAR_H, LEFT, WIDTH, TOP = 38, 24, 76, 1100, 26


def _nice_step(span: float, target: int = 8) -> float:
    raw = span / target
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if step >= raw:
            return step
    return 7200.0


def _dur(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f}s"
    m, s = divmod(int(seconds), 60)
    return f"{m}m{s:02d}s" if m < 60 else f"{m // 60}h{m % 60:02d}m"


def gantt_svg(tl: Timeline) -> str:
    span = tl.t1 - tl.t0
    plot = WIDTH - LEFT - 10
    height = TOP + LANE_H * max(len(tl.lanes), 1) + 8

    def x(t: float) -> float:
        return LEFT + (t - tl.t0) / span * plot

    row = {lane: i for i, lane in enumerate(tl.lanes)}
    out = [
        f'<svg id="timeline" class="timeline" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" role="img" aria-label="timeline of tasks across agent slots">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#e9ecef"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#adb5bd" stroke-width="2"/></pattern></defs>',
    ]
    step = _nice_step(span)
    k = 0
    while k * step <= span + 1e-9:
        gx = x(tl.t0 + k * step)
        out.append(
            f'<line class="grid" x1="{gx:.1f}" y1="{TOP - 6}" x2="{gx:.1f}" y2="{height - 6}"/>'
            f'<text class="tick" x="{gx:.1f}" y="{TOP - 10}">{_dur(k * step)}</text>'
        )
        k += 1
    for lane, i in row.items():
        y = TOP + i * LANE_H
        out.append(
            f'<rect class="lane" x="{LEFT}" y="{y}" width="{plot}" height="{LANE_H - 4}"/>'
            f'<text class="lane-label" x="8" y="{y + LANE_H / 2 + 2}">slot {lane}</text>'
        )
    for s in tl.segments:
        sy = TOP + row[s.lane] * LANE_H + (LANE_H - 4 - BAR_H) / 2
        x0 = x(s.start)
        w = max(x(s.end) - x0, 1.5)
        h = BAR_H if s.kind.startswith("agent") else BAR_H - 8
        yy = sy if s.kind.startswith("agent") else sy + 4
        tip = f"{s.task} attempt {s.attempt}: {s.kind} {_dur(s.end - s.start)}"
        out.append(
            f'<g class="seg {s.kind}" data-task="{escape(s.task)}"><title>{escape(tip)}</title>'
            f'<rect x="{x0:.1f}" y="{yy:.1f}" width="{w:.1f}" height="{h}" rx="3" '
            f'fill="{COLOURS.get(s.kind, "#999")}"/>'
        )
        if s.kind.startswith("agent") and w > 8 * len(s.label):
            out.append(
                f'<text class="bar-label" x="{x0 + 5:.1f}" y="{yy + h / 2 + 4:.1f}">{escape(s.label)}</text>'
            )
        out.append("</g>")
    for m in tl.marks:
        cx = x(m.t)
        cy = TOP + row[m.lane] * LANE_H + (LANE_H - 4) / 2
        if m.kind == "merged":
            pts = f"{cx:.1f},{cy - 7:.1f} {cx + 6:.1f},{cy:.1f} {cx:.1f},{cy + 7:.1f} {cx - 6:.1f},{cy:.1f}"
            shape = f'<polygon class="mark merged" points="{pts}"/>'
        else:
            shape = (
                f'<path class="mark failed" d="M{cx - 6:.1f} {cy - 6:.1f}L{cx + 6:.1f} {cy + 6:.1f}'
                f'M{cx + 6:.1f} {cy - 6:.1f}L{cx - 6:.1f} {cy + 6:.1f}"/>'
            )
        out.append(
            f'<g data-task="{escape(m.task)}"><title>{escape(m.task)} {m.kind} at '
            f"+{_dur(m.t - tl.t0)}</title>{shape}</g>"
        )
    out.append("</svg>")
    return "".join(out)


NODE_W, NODE_H, GAP_X, GAP_Y, PAD = 196, 50, 60, 18, 12


def graph_svg(
    layout: Layout,
    titles: dict[str, str],
    status: dict[str, str],
    critical: set[tuple[str, str]] | None = None,
) -> str:
    critical = critical or set()
    tallest = max((len(layer) for layer in layout.layers), default=1)
    width = PAD * 2 + len(layout.layers) * NODE_W + max(len(layout.layers) - 1, 0) * GAP_X
    height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y

    def box(n: str) -> tuple[float, float]:
        li, k = layout.pos[n]
        col = len(layout.layers[li])
        offset = (height - (col * NODE_H + (col - 1) * GAP_Y)) / 2
        return PAD + li * (NODE_W + GAP_X), offset + k * (NODE_H + GAP_Y)

    out = [
        f'<svg id="graph" class="graph" viewBox="0 0 {width} {height}" width="{width}" '
        f'style="max-width:100%" role="img" aria-label="task graph">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
        'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#868e96"/>'
        "</marker></defs>",
    ]
    for p, c in layout.edges:
        x1, y1 = box(p)
        x2, y2 = box(c)
        sx, sy, ex, ey = x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2
        mid = (sx + ex) / 2
        cls = "edge critical" if (p, c) in critical else "edge"
        out.append(
            f'<path class="{cls}" d="M{sx:.1f} {sy:.1f}C{mid:.1f} {sy:.1f} {mid:.1f} {ey:.1f} '
            f'{ex - 2:.1f} {ey:.1f}" marker-end="url(#arrow)"/>'
        )
    for n in layout.pos:
        x0, y0 = box(n)
        st = status.get(n, "pending")
        title = titles.get(n, "")
        short = title if len(title) <= 25 else title[:24] + "…"
        out.append(
            f'<g class="node {escape(st)}" data-task="{escape(n)}"><title>{escape(n)}: '
            f"{escape(title)} ({escape(st)})</title>"
            f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{NODE_W}" height="{NODE_H}" rx="8" '
            f'fill="{STATUS_FILL.get(st, "#fff")}" stroke="{STATUS_STROKE.get(st, "#868e96")}"/>'
            f'<text class="node-id" x="{x0 + 10:.1f}" y="{y0 + 20:.1f}">{escape(n)}</text>'
            f'<text class="node-status" x="{x0 + NODE_W - 10:.1f}" y="{y0 + 20:.1f}" '
            f'text-anchor="end" fill="{STATUS_STROKE.get(st, "#868e96")}">{escape(st)}</text>'
            f'<text class="node-title" x="{x0 + 10:.1f}" y="{y0 + 38:.1f}">{escape(short)}</text>'
            "</g>"
        )
    out.append("</svg>")
    return "".join(out)
