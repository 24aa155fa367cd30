"""Server-side SVG charts: the same picture on the page and in the PDF, no JavaScript."""
from __future__ import annotations

from xml.sax.saxutils import escape

COLOURS = ("#0b5d57", "#3d8f88", "#8a3b12", "#c77d22", "#4a5d9b", "#7a7a7a")


def bar_chart(data: dict, labels: dict | None = None, title: str = "", width: int = 520) -> str:
    """Horizontal bars, one per key, with the value at the end. Values may be "<5" (shown, drawn small)."""
    labels = labels or {}
    items = list(data.items())
    numeric = [v if isinstance(v, (int, float)) else 4 for _k, v in items]
    top = max(numeric or [0]) or 1
    row, label_w, pad = 22, 190, 8
    height = pad * 2 + row * max(len(items), 1) + (20 if title else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
           f'aria-label="{escape(title)}" font-family="sans-serif" font-size="12">']
    y0 = pad
    if title:
        out.append(f'<text x="0" y="14" font-weight="600" fill="#222">{escape(title)}</text>')
        y0 += 20
    bar_w = width - label_w - 50
    for i, ((key, value), n) in enumerate(zip(items, numeric)):
        y = y0 + i * row
        length = max(2, round(bar_w * n / top))
        out.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" fill="#222">'
                   f'{escape(str(labels.get(key, key)))[:40]}</text>')
        out.append(f'<rect x="{label_w}" y="{y + 3}" width="{length}" height="{row - 7}" '
                   f'fill="{COLOURS[i % len(COLOURS)]}"/>')
        out.append(f'<text x="{label_w + length + 4}" y="{y + 14}" fill="#222">{escape(str(value))}</text>')
    if not items:
        out.append(f'<text x="0" y="{y0 + 14}" fill="#666">—</text>')
    out.append("</svg>")
    return "".join(out)
