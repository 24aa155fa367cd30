"""Server-side SVG charts: the same picture on the page and in the PDF, no JavaScript.

Every chart is drawn at its own size (width and height in pixels, shrunk by CSS on a narrow
screen, never stretched), so two charts side by side or one alone are drawn at the same scale.
Text is laid out from an estimate of its width (``text_width``) that errs wide for the
sans-serif fonts the pages and the PDF use (DejaVu Sans is the widest of them): a label longer
than its column is cut with an ellipsis, never drawn outside the picture.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

COLOURS = ("#0b5d57", "#3d8f88", "#8a3b12", "#c77d22", "#4a5d9b", "#7a7a7a")
FONT_SIZE = 12
SUPPRESSED = "<5"

# Advance widths in em, the widest of each group in DejaVu Sans (wider than Arial, Helvetica or
# Liberation); bold is 13% wider.
_NARROW = set("iljfrtI.,:;'!|() ")
_WIDE = set("mwMW%@…")
BOLD = 1.15


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """How wide ``text`` is drawn at ``size`` pixels, erring wide."""
    em = 0.0
    for ch in text:
        if ch in _NARROW:
            em += 0.42
        elif ch in _WIDE:
            em += 1.0
        elif ch.isupper():
            em += 0.8
        elif ch.isalnum():
            em += 0.64
        else:
            em += 0.84
    return em * size


def fit(text: str, room: float, size: float = FONT_SIZE) -> str:
    """``text`` cut with an ellipsis to fit ``room`` pixels."""
    if text_width(text, size) <= room:
        return text
    while text and text_width(text + "…", size) > room:
        text = text[:-1]
    return text.rstrip() + "…" if text else ""


def bar_chart(data: dict, labels: dict | None = None, title: str = "", width: int = 520,
              suffix: str = "") -> str:
    """Horizontal bars, one per key, with the value at the end (and ``suffix``, e.g. "%").
    A suppressed value ("<5") is drawn as a hatched stub labelled "<5", never as a length; a
    missing one (None) draws no bar and "—"."""
    labels = labels or {}
    items = [(str(labels.get(k, k)), v) for k, v in data.items()]
    numeric = [v for _k, v in items if isinstance(v, (int, float)) and not isinstance(v, bool)]
    top = max(numeric or [0]) or 1
    row, pad, gap = 22, 8, 6
    shown = [SUPPRESSED if v == SUPPRESSED else ("—" if v is None else f"{v}{suffix}") for _k, v in items]
    value_w = max([text_width(s) for s in shown] or [0]) + gap
    label_w = min(max([text_width(k) for k, _v in items] or [0]) + gap, width * 0.45)
    height = pad * 2 + row * max(len(items), 1) + (20 if title else 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{escape(title, {chr(34): "&quot;"})}" '
           f'font-family="sans-serif" font-size="{FONT_SIZE}">']
    y0 = pad
    if title:
        out.append(f'<text x="0" y="14" font-weight="600" fill="#222">{escape(fit(title, width / BOLD))}</text>')
        y0 += 20
    x0 = label_w
    bar_w = width - x0 - value_w
    for i, ((label, value), text) in enumerate(zip(items, shown)):
        y = y0 + i * row
        out.append(f'<text x="{x0 - gap:.0f}" y="{y + 14}" text-anchor="end" fill="#222">'
                   f'{escape(fit(label, label_w - gap))}</text>')
        if value == SUPPRESSED:
            length, h, top_y = 8, row - 7, y + 3
            out.append(f'<rect x="{x0:.0f}" y="{top_y}" width="{length}" height="{h}" fill="none" stroke="#7a7a7a"/>'
                       f'<path d="M{x0:.0f},{top_y + h / 2:.1f} l{length / 2:.0f},-{h / 2:.1f} '
                       f'M{x0:.0f},{top_y + h} l{length},-{h} M{x0 + length / 2:.0f},{top_y + h} '
                       f'l{length / 2:.0f},-{h / 2:.1f}" stroke="#7a7a7a"/>')
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            length = max(2, round(bar_w * value / top)) if value > 0 else 0
            if length:
                out.append(f'<rect x="{x0:.0f}" y="{y + 3}" width="{length}" height="{row - 7}" '
                           f'fill="{COLOURS[i % len(COLOURS)]}"/>')
        else:
            length = 0
        out.append(f'<text x="{x0 + length + 4:.0f}" y="{y + 14}" fill="#222">{escape(text)}</text>')
    if not items:
        out.append(f'<text x="0" y="{y0 + 14}" fill="#666">—</text>')
    out.append("</svg>")
    return "".join(out)
