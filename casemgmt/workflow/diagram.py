"""The SOP drawn from its definition (SVG), so the picture cannot drift from the rules."""
from __future__ import annotations

from xml.sax.saxutils import escape

from casemgmt.workflow.definition import TRANSITIONS, Transition
from casemgmt.workflow.stages import STAGES

BOX_W, BOX_H, GAP, LEFT, TOP, LANE_W, LABELS_W = 210, 46, 64, 20, 20, 175, 230


def _y(index: int) -> int:
    return TOP + index * (BOX_H + GAP)


def svg(stages=STAGES, transitions: tuple[Transition, ...] = TRANSITIONS) -> str:
    order = {s.code: i for i, s in enumerate(stages)}
    forward = [t for t in transitions if len(t.from_stages) == 1 and order[t.to_stage] == order[t.from_stages[0]] + 1]
    lanes = [t for t in transitions if t not in forward]
    width = LEFT + BOX_W + LABELS_W + LANE_W * len(lanes)
    height = _y(len(stages)) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
           f'height="{height}" role="img" font-family="sans-serif" font-size="13">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#33524f"/></marker></defs>']
    for i, stage in enumerate(stages):
        y = _y(i)
        out.append(f'<rect x="{LEFT}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="#0b5d57"/>')
        out.append(f'<text x="{LEFT + BOX_W / 2}" y="{y + 28}" fill="#fff" text-anchor="middle" font-weight="600">'
                   f'{i + 1}. {escape(str(stage.label))}</text>')
    cx = LEFT + BOX_W / 2
    for t in forward:
        i = order[t.from_stages[0]]
        y1, y2 = _y(i) + BOX_H, _y(i + 1)
        out.append(f'<line x1="{cx}" y1="{y1}" x2="{cx}" y2="{y2 - 2}" stroke="#33524f" stroke-width="1.6" '
                   f'marker-end="url(#arrow)"/>')
        approval = " ✓" if t.needs_approval else ""
        out.append(f'<text x="{cx + 8}" y="{(y1 + y2) / 2 + 4}" fill="#222">{escape(str(t.label))}{approval}</text>')
    for k, t in enumerate(lanes):
        lane_x = LEFT + BOX_W + LABELS_W + k * LANE_W
        ends = [order[s] for s in t.from_stages] + [order[t.to_stage]]
        top, bottom = _y(min(ends)) + BOX_H / 2, _y(max(ends)) + BOX_H / 2
        colour = "#8a3b12" if t.closes else "#33524f"
        out.append(f'<line x1="{lane_x}" y1="{top}" x2="{lane_x}" y2="{bottom}" stroke="{colour}" stroke-width="1.6"/>')
        for s in t.from_stages:
            y = _y(order[s]) + BOX_H / 2 - 6
            out.append(f'<line x1="{LEFT + BOX_W}" y1="{y}" x2="{lane_x}" y2="{y}" stroke="{colour}" '
                       f'stroke-width="1.2" stroke-dasharray="4 3"/>')
        y = _y(order[t.to_stage]) + BOX_H / 2 + 6
        out.append(f'<line x1="{lane_x}" y1="{y}" x2="{LEFT + BOX_W + 2}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="1.6" marker-end="url(#arrow)"/>')
        approval = " ✓" if t.needs_approval else ""
        # A white halo keeps the label readable where it crosses the dashed stubs.
        out.append(f'<text x="{lane_x + 6}" y="{(top + bottom) / 2 + 20}" fill="{colour}" stroke="#fff" '
                   f'stroke-width="4" paint-order="stroke">{escape(str(t.label))}{approval}</text>')
    out.append("</svg>")
    return "\n".join(out)
