"""The SVG charts drawn for real: every text inside the picture, measured with the font the PDF
and the browsers draw "sans-serif" with here (fontconfig's choice, DejaVu Sans: the widest of
the usual ones), not with the estimate the charts lay themselves out by."""
from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest
from PIL import ImageFont

from casemgmt.codes import CONCERNS, SERVICES
from casemgmt.reports import charts

SVG = "{http://www.w3.org/2000/svg}"
LONG = {
    "a": "Anak yang berhadapan dengan hukum sebagai korban kekerasan seksual dan eksploitasi ekonomi",
    "b": "Perkawinan anak",
    "c": "WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW",
    "d": "Penelantaran oleh orang tua atau wali yang seharusnya mengasuh anak",
}


def _font_file(bold: bool) -> str:
    pattern = "sans-serif:bold" if bold else "sans-serif"
    return subprocess.run(["fc-match", "-f", "%{file}", pattern], capture_output=True, text=True,
                          check=True).stdout


FONTS = {bold: _font_file(bold) for bold in (False, True)}


def _outside(svg: str) -> list[str]:
    """The texts of ``svg`` drawn (partly) outside its viewBox."""
    root = ET.fromstring(svg)
    _x, _y, width, height = (float(v) for v in root.get("viewBox").split())
    assert root.get("width") == f"{width:.0f}" and root.get("height") == f"{height:.0f}"
    size = float(root.get("font-size"))
    wrong = []
    for text in root.iter(f"{SVG}text"):
        font = ImageFont.truetype(FONTS[text.get("font-weight") == "600"], size)
        drawn = font.getlength(text.text or "")
        x, y = float(text.get("x")), float(text.get("y"))
        left = x - drawn if text.get("text-anchor") == "end" else x
        if left < 0 or left + drawn > width or y - size < 0 or y > height:
            wrong.append(text.text)
    return wrong


@pytest.mark.parametrize("width", [520, 360])
def test_long_indonesian_labels_stay_inside(width):
    svg = charts.bar_chart({k: 10 * i + 1 for i, k in enumerate(LONG)}, LONG,
                           "Kasus menurut permasalahan dan menurut kabupaten/kota selama satu tahun penuh", width)
    assert _outside(svg) == []
    assert "…" in svg  # the longest were cut, not squeezed


def test_the_indicator_charts_in_indonesian_stay_inside(app):
    with app.test_request_context(headers={"Accept-Language": "id"}):
        concern = charts.bar_chart({k: 12345 for k in CONCERNS}, {k: str(v) for k, v in CONCERNS.items()},
                                   "Kasus menurut permasalahan")
        services = charts.bar_chart({k: "<5" for k in SERVICES}, {k: str(v) for k, v in SERVICES.items()},
                                    "Layanan yang diberikan")
        trend = charts.bar_chart({"2026-10": 66.7, "2026-11": None, "2026-12": 100.0},
                                 title="Dipilah dalam tenggat (%)", suffix="%")
    for svg in (concern, services, trend):
        assert _outside(svg) == []
    # Drawn at one scale: the same width whatever the number of bars.
    assert {ET.fromstring(s).get("width") for s in (concern, services, trend)} == {"520"}


def test_suppressed_counts_are_stubs_not_lengths():
    svg = charts.bar_chart({"a": "<5", "b": "<5"}, title="Kecil")
    root = ET.fromstring(svg)
    assert [float(r.get("width")) for r in root.iter(f"{SVG}rect")] == [8, 8]
    assert [t.text for t in root.iter(f"{SVG}text")].count("<5") == 2
    mixed = ET.fromstring(charts.bar_chart({"a": 400, "b": "<5", "c": 0, "d": None}))
    widths = [float(r.get("width")) for r in mixed.iter(f"{SVG}rect")]
    assert widths[1] == 8 and len(widths) == 2  # no bar for zero nor for a missing value
    assert widths[0] > 300
