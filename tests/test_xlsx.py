"""casemgmt.xlsx: the streaming sheet writer the case export uses."""
from __future__ import annotations

import re
import zipfile
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings, strategies as st
from openpyxl import load_workbook

from casemgmt.xlsx import MAX_TEXT, SheetWriter, column_letter

NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def cells_as_excel_reads_them(path) -> dict[str, object]:
    """Cell reference -> value, decoding ECMA-376's _xHHHH_ escapes as Excel and LibreOffice do
    (openpyxl leaves them as they are)."""
    with zipfile.ZipFile(path) as package:
        root = ElementTree.fromstring(package.read("xl/worksheets/sheet1.xml"))
    out = {}
    for cell in root.iterfind(".//m:c", NS):
        if cell.get("t") == "inlineStr":
            text = "".join(t.text or "" for t in cell.iterfind(".//m:t", NS))
            out[cell.get("r")] = re.sub("_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), text)
        else:
            out[cell.get("r")] = float(cell.find("m:v", NS).text)
    return out


def test_a_sheet_opens_with_its_header_bold_and_frozen_and_its_types_kept(tmp_path):
    path = tmp_path / "t.xlsx"
    with SheetWriter(path, "Kasus", ["Nomor", "Umur"], widths=[18, 6]) as sheet:
        sheet.append(["7306-2026-000001", 7, 2.5, True, None, "", "=HYPERLINK(\"http://x.test\",\"klik\")"])
        sheet.append([" spasi ", 0])
    book = load_workbook(path)
    ws = book.active
    assert ws.title == "Kasus" and ws.freeze_panes == "A2"
    assert [c.value for c in ws[1][:3]] == ["Nomor", "Umur", None] and ws["A1"].font.b and not ws["A2"].font.b
    assert ws.column_dimensions["A"].width == 18
    row = ws[2]
    assert [c.value for c in row[:4]] == ["7306-2026-000001", 7, 2.5, 1]
    assert [c.data_type for c in row[:4]] == ["s", "n", "n", "n"]
    assert row[4].value is None and row[5].value is None            # nothing written for None or ""
    assert row[6].data_type == "s" and row[6].value.startswith("=HYPERLINK") and row[6].hyperlink is None
    assert ws["A3"].value == " spasi " and ws["B3"].value == 0
    assert ws.max_row == 3


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40), min_size=1, max_size=5))
def test_any_text_reads_back_as_written(tmp_path_factory, texts):
    """Controls, markup, U+FFFE/U+FFFF and a literal "_x0041_" all come back as typed."""
    path = tmp_path_factory.mktemp("x") / "t.xlsx"
    with SheetWriter(path, "S", ["h"]) as sheet:
        sheet.append(texts)
    got = cells_as_excel_reads_them(path)
    for col, text in enumerate(texts):
        assert got.get(f"{column_letter(col)}2", "") == text


def test_a_cell_is_cut_at_excels_limit_in_utf16_units(tmp_path):
    path = tmp_path / "t.xlsx"
    with SheetWriter(path, "S", ["h"]) as sheet:
        sheet.append(["a" * (MAX_TEXT + 10), "\U0001F600" * MAX_TEXT])
    got = cells_as_excel_reads_them(path)
    assert got["A2"] == "a" * MAX_TEXT
    assert got["B2"] == "\U0001F600" * (MAX_TEXT // 2)   # two UTF-16 units each, none split


def test_a_long_cell_with_a_lone_surrogate_is_cut_not_refused(tmp_path):
    """The JSON API can store a lone surrogate; a long narrative holding one is still written."""
    path = tmp_path / "t.xlsx"
    with SheetWriter(path, "S", ["h"]) as sheet:
        sheet.append(["\ud800" + "b" * (MAX_TEXT + 10), "\udfff pendek"])
    got = cells_as_excel_reads_them(path)
    assert got["A2"] == "b" * (MAX_TEXT - 1)   # cut at the limit; the surrogate, no character, dropped
    assert got["B2"] == "\udfff pendek"       # a short one is escaped (_xDFFF_) and reads back, as before


def test_bad_values_are_refused_and_leave_no_file(tmp_path):
    path = tmp_path / "t.xlsx"
    with pytest.raises(ValueError):
        with SheetWriter(path, "S", ["h"]) as sheet:
            sheet.append(["ok"])
            sheet.append([float("nan")])
    with pytest.raises(TypeError):
        with SheetWriter(path, "S", ["h"]) as sheet:
            sheet.append([object()])
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError):
        SheetWriter(path, "a/b", ["h"])
    with pytest.raises(ValueError):
        SheetWriter(path, "x" * 32, ["h"])


def test_a_sheet_refuses_more_rows_than_excel_opens(tmp_path, monkeypatch):
    from casemgmt import xlsx

    monkeypatch.setattr(xlsx, "MAX_ROWS", 3)
    with SheetWriter(tmp_path / "t.xlsx", "S", ["h"]) as sheet:
        sheet.append([1])
        sheet.append([2])
        with pytest.raises(ValueError):
            sheet.append([3])
    assert load_workbook(tmp_path / "t.xlsx").active.max_row == 3


def test_column_letters():
    assert [column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == \
        ["A", "Z", "AA", "AZ", "BA", "ZZ", "AAA", "XFD"]


def test_the_package_declares_its_parts(tmp_path):
    path = tmp_path / "t.xlsx"
    with SheetWriter(path, "Kasus & <anak>", ["h"]) as sheet:
        sheet.append(["v"])
    with zipfile.ZipFile(path) as package:
        assert package.testzip() is None
        names = set(package.namelist())
        types = ElementTree.fromstring(package.read("[Content_Types].xml"))
    assert {"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels",
            "xl/styles.xml", "xl/worksheets/sheet1.xml"} <= names
    overrides = {o.get("PartName").lstrip("/") for o in types if o.get("PartName")}
    assert {"xl/workbook.xml", "xl/worksheets/sheet1.xml", "xl/styles.xml"} <= overrides
    assert load_workbook(path).active.title == "Kasus & <anak>"
