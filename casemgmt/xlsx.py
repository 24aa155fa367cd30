"""A streaming XLSX writer for one table on one sheet: text and numbers, a bold header row.

Not XlsxWriter: its cost per cell alone takes most of the 15 s that issue 9 allows for a
100,000-case export. This writes the same SpreadsheetML (ECMA-376) a row at a time, as one
string per row, at a fraction of that cost, deflate included.

Memory stays flat whatever the size: rows go to a temporary file, which is deflated into the
package on close (its size then known, so the zip needs ZIP64 only past 2 GiB; Excel refuses
some ZIP64 headers a streamed entry would need).

Text is always text: a cell starting with "=" is an inline string, never a formula, and nothing
is turned into a link (no formula injection). Characters XML cannot carry are written as
Excel's _xHHHH_ escapes, and a literal "_xHHHH_" is protected so that Excel shows it as typed.
"""
from __future__ import annotations

import math
import re
import shutil
import tempfile
import time
import zipfile
from pathlib import Path

MAX_ROWS = 1_048_576          # rows in a sheet, header included (Excel's limit)
MAX_TEXT = 32_767             # characters in a cell (UTF-16 code units)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

# What XML 1.0 cannot carry (C0 controls but tab and newline; lone surrogates; U+FFFE/F), a
# carriage return (XML reads it as a newline; Excel writes it _x000D_ too), and text that Excel
# would read as one of its own escapes.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\ud800-\udfff\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_MARKUP = re.compile("[&<>]")
_BAD_SHEET_NAME = re.compile(r"[\[\]:*?/\\]")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escaped(match: re.Match) -> str:
    return "_x%04X_" % ord(match.group())


def _text(value: str) -> str:
    """A string as the content of <t>: truncated to Excel's limit, escaped."""
    # surrogatepass: a lone surrogate (the JSON API can store one) is measured. An uncut one is
    # escaped below; a cut text is decoded with 'ignore', which drops it (and a pair the cut split).
    if len(value) > MAX_TEXT // 2 and len(value.encode("utf-16-le", "surrogatepass")) > 2 * MAX_TEXT:
        value = value.encode("utf-16-le", "surrogatepass")[:2 * MAX_TEXT].decode("utf-16-le", "ignore")
    if _UNSAFE.search(value):
        value = _UNSAFE.sub(_escaped, value)
    if _MARKUP.search(value):
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


class SheetFull(ValueError):
    """One row more than a sheet holds (MAX_ROWS)."""


class SheetWriter:
    """Write rows of str, int or float (None or "" leaves the cell empty) to an .xlsx file.

    with SheetWriter(path, "Kasus", ["Nomor", "Tahap"], widths=[22, 14]) as sheet:
        sheet.append(["K-2026-0001", "Asesmen"])
    """

    def __init__(self, path: str | Path, sheet_name: str, header: list[str], widths: list[float] | None = None):
        if not sheet_name or len(sheet_name) > 31 or _BAD_SHEET_NAME.search(sheet_name):
            raise ValueError(f"not a sheet name Excel accepts: {sheet_name!r}")
        self.path = Path(path)
        self.sheet_name = sheet_name
        self.rows = 0
        self._refs = [column_letter(i) for i in range(max(len(header), len(widths or ())))]
        self._body = tempfile.TemporaryFile()
        self._pending: list[str] = []
        cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                       for i, w in enumerate(widths or (), start=1))
        self._body.write((
            f'{_XML}<worksheet xmlns="{_MAIN}" xmlns:r="{_RELS}">'
            '<sheetViews><sheetView workbookViewId="0">'
            '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
            '<sheetFormatPr defaultRowHeight="15"/>' + (f"<cols>{cols}</cols>" if cols else "") + "<sheetData>").encode())
        self.append(header, style=' s="1"')

    def append(self, values, style: str = "") -> None:
        if self.rows >= MAX_ROWS:
            raise SheetFull(f"a sheet holds at most {MAX_ROWS} rows")
        self.rows += 1
        n = str(self.rows)
        refs = self._refs
        if len(values) > len(refs):
            refs.extend(column_letter(i) for i in range(len(refs), len(values)))
        cells = []
        for col, value in enumerate(values):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                cells.append(f'<c r="{refs[col]}{n}" t="inlineStr"{style}><is><t xml:space="preserve">'
                             f"{_text(value)}</t></is></c>")
            elif isinstance(value, (int, float)):
                if isinstance(value, float) and not math.isfinite(value):
                    raise ValueError(f"a cell cannot hold {value!r}")
                cells.append(f'<c r="{refs[col]}{n}"{style}><v>{value!r}</v></c>' if isinstance(value, float)
                             else f'<c r="{refs[col]}{n}"{style}><v>{int(value)}</v></c>')
            else:
                raise TypeError(f"a cell holds text or a number, not {type(value).__name__}")
        self._pending.append(f'<row r="{n}">{"".join(cells)}</row>')
        if len(self._pending) >= 500:
            self._flush()

    def _flush(self) -> None:
        self._body.write("".join(self._pending).encode())
        self._pending.clear()

    def close(self) -> None:
        """Write the package; the file appears complete or not at all (written beside, then renamed)."""
        self._flush()
        self._body.write(b"</sheetData></worksheet>")
        size = self._body.tell()
        self._body.seek(0)
        partial = self.path.with_name(self.path.name + ".part")
        try:
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as package:
                for name, text in self._parts():
                    package.writestr(name, text)
                entry = zipfile.ZipInfo("xl/worksheets/sheet1.xml", time.localtime()[:6])
                entry.compress_type, entry.file_size = zipfile.ZIP_DEFLATED, size  # ZIP64 only if needed
                with package.open(entry, "w") as sheet:
                    shutil.copyfileobj(self._body, sheet, 1 << 20)
            partial.replace(self.path)
        finally:
            self._body.close()
            partial.unlink(missing_ok=True)

    def _parts(self):
        name = self.sheet_name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
        sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml"
        yield "[Content_Types].xml", (
            f'{_XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{sheet_type}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{sheet_type}.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{sheet_type}.styles+xml"/>'
            "</Types>")
        yield "_rels/.rels", (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        yield "xl/workbook.xml", (
            f'{_XML}<workbook xmlns="{_MAIN}" xmlns:r="{_RELS}"><bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>')
        yield "xl/_rels/workbook.xml.rels", (
            f'{_XML}<Relationships xmlns="{_PACKAGE_RELS}">'
            f'<Relationship Id="rId1" Type="{_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_RELS}/styles" Target="styles.xml"/></Relationships>')
        yield "xl/styles.xml", (
            f'{_XML}<styleSheet xmlns="{_MAIN}">'
            '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            "</styleSheet>")

    def __enter__(self) -> SheetWriter:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.close()
        else:
            self._body.close()
