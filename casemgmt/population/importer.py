"""Reading a SIAK extract (CSV or XLSX, as Dukcapil writes it) a row at a time into a new extract.

Rows are read and checked one at a time and written in batches, each batch committed, so memory
stays flat whatever the size. Nothing is guessed: a row that cannot be read is rejected with its
row number and the reason (the first 100 kept, all counted). The district's extract in use is
switched to the new one only once it is complete; until then, and whenever an import fails, the
previous one stays in use.
"""
from __future__ import annotations

import csv
import re
import zipfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, delete, func, insert, literal, select, update

from casemgmt.cases.identity import known_regency_codes
from casemgmt.directory.models import Area
from casemgmt.errors import ServiceError
from casemgmt.extensions import db
from casemgmt.population.models import (
    OutreachEvent,
    OutreachItem,
    OutreachLetter,
    PopulationCount,
    PopulationCurrent,
    PopulationImport,
    PopulationPerson,
)
from casemgmt.population.rules import RULES, list_outreach

BATCH = 5000
ERRORS_KEPT = 100
MAX_ZIP_ENTRIES = 200
MAX_ZIP_RATIO = 100  # a deflated sheet of text shrinks some 5 to 20 times; a bomb by thousands

REQUIRED = ("NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "STAT_HBKEL", "NO_PROP", "NO_KAB", "NO_KEC",
            "NO_KEL")
CERTIFICATE = ("AKTA_LHR", "NO_AKTA_LHR")  # either, or both
OPTIONAL = ("STAT_KWN", "PDDK_AKH", "NIK_IBU", "NIK_AYAH")
# What a birth-certificate letter to Dukcapil prints beyond the lists' fields: read and kept only
# for a child under 18 without a certificate.
LETTER_FIELDS = ("TMPT_LHR", "NAMA_LGKP_IBU", "NAMA_LGKP_AYAH", "ALAMAT", "NO_RT", "NO_RW")


def _codes(pairs: dict[int, tuple[str, ...]]) -> dict[str, int]:
    """Codes and their labels (upper case, single spaces) to the code."""
    found = {}
    for code, labels in pairs.items():
        found[str(code)] = code
        for label in labels:
            found[label] = code
    return found


SEXES = {"1": "M", "2": "F", "LAKI-LAKI": "M", "LAKI LAKI": "M", "PEREMPUAN": "F"}
RELATIONSHIPS = _codes({1: ("KEPALA KELUARGA",), 2: ("SUAMI",), 3: ("ISTRI",), 4: ("ANAK",), 5: ("MENANTU",),
                        6: ("CUCU",), 7: ("ORANG TUA",), 8: ("MERTUA",), 9: ("FAMILI LAIN",), 10: ("PEMBANTU",),
                        11: ("LAINNYA",)})
MARITAL = _codes({1: ("BELUM KAWIN",), 2: ("KAWIN",), 3: ("CERAI HIDUP",), 4: ("CERAI MATI",)})
EDUCATION = _codes({1: ("TIDAK/BELUM SEKOLAH", "TIDAK / BELUM SEKOLAH"), 2: ("BELUM TAMAT SD",), 3: ("TAMAT SD",),
                    4: ("SLTP",), 5: ("SLTA",), 6: ("DIPLOMA I/II",), 7: ("DIPLOMA III", "AKADEMI/DIPLOMA III"),
                    8: ("DIPLOMA IV/S1", "DIPLOMA IV/STRATA I"), 9: ("S2", "STRATA II"), 10: ("S3", "STRATA III")})
CERTIFICATES = _codes({1: ("TIDAK ADA",), 2: ("ADA",)})

_SPACES = re.compile(r"\s+")
_DIGITS16 = re.compile(r"^[0-9]{16}$")
_MANGLED = re.compile(r"^[0-9](\.[0-9]+)?E\+?[0-9]+$", re.I)
_SEDERAJAT = re.compile(r"\s*/\s*SEDERAJAT$")


class BadExtract(ServiceError):
    """The whole file refused: nothing of it is imported, the previous extract stays in use."""
    status = 422
    code = "bad_extract"


class RowProblem(ValueError):
    pass


# ---- the file -----------------------------------------------------------------------------------

def kind_of(head: bytes) -> str:
    """'xlsx' or 'csv' from a file's first bytes; BadExtract for anything else."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if not head.strip() or b"\x00" in head[:4096] or head.startswith((b"%PDF", b"\xd0\xcf\x11\xe0")):
        raise BadExtract(_("The file is not a CSV or XLSX extract."))
    return "csv"


def check_zip(path: Path) -> None:
    """Refuse an XLSX whose parts would unpack past the configured size, or a part that
    unpacks far beyond what text deflates to (a ZIP bomb), before anything is unpacked."""
    limit = current_app.config["POPULATION_MAX_UNPACKED_BYTES"]
    try:
        with zipfile.ZipFile(path) as package:
            infos = package.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise BadExtract(_("The file is not a CSV or XLSX extract.")) from exc
    if len(infos) > MAX_ZIP_ENTRIES or sum(info.file_size for info in infos) > limit or any(
            info.file_size > 1_000_000 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1)
            for info in infos):
        raise BadExtract(_("The XLSX file unpacks to far more than an extract holds; it was not read."))
    if not any(info.filename == "xl/workbook.xml" for info in infos):
        raise BadExtract(_("The file is not a CSV or XLSX extract."))


def _csv_rows(path: Path) -> Iterator[list]:
    with open(path, "rb") as raw:
        head = raw.read(65536)
    try:
        head.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sample's end
            encoding = "cp1252"
        else:
            encoding = "utf-8-sig"
    first = head.split(b"\n", 1)[0]
    delimiter = max((";", ",", "\t"), key=lambda d: first.count(d.encode()))
    with open(path, encoding=encoding, errors="strict", newline="") as handle:
        try:
            yield from csv.reader(handle, delimiter=delimiter)
        except (UnicodeDecodeError, csv.Error) as exc:
            raise BadExtract(_("The CSV file could not be read past one of its lines: %(reason)s",
                               reason=type(exc).__name__)) from exc


def _xlsx_rows(path: Path) -> Iterator[list]:
    from openpyxl import load_workbook

    check_zip(path)
    try:
        book = load_workbook(path, read_only=True, data_only=False)  # a formula is read as its text
    except Exception as exc:  # openpyxl raises many kinds for a damaged package
        raise BadExtract(_("The XLSX file could not be opened.")) from exc
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield list(values)
    finally:
        book.close()


def rows_of(path: Path, kind: str) -> Iterator[list]:
    return _xlsx_rows(path) if kind == "xlsx" else _csv_rows(path)


def header_index(header: list) -> dict[str, int]:
    """Column name -> position, from a header as Dukcapil writes it; BadExtract naming what is missing."""
    names = {}
    for i, cell in enumerate(header):
        name = _SPACES.sub("_", str(cell or "").strip().lstrip("\ufeff").upper()).replace("-", "_")
        if name and name not in names:
            names[name] = i
    missing = [name for name in REQUIRED if name not in names]
    if not any(name in names for name in CERTIFICATE):
        missing.append("AKTA_LHR / NO_AKTA_LHR")
    if missing:
        raise BadExtract(_("Columns missing from the extract: %(columns)s.", columns=", ".join(missing)))
    return names


# ---- one row ------------------------------------------------------------------------------------

def _text(value) -> str:
    """A cell as text with single spaces, trimmed."""
    if value is None:
        return ""
    if type(value) is not str:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        value = str(value)
    value = value.strip()
    if "  " in value or "\t" in value or "\n" in value or "\r" in value or "\xa0" in value:
        value = _SPACES.sub(" ", value)
    return value


def _code(value, table: dict, what: str, required: bool = True):
    raw = _text(value)
    if raw in table:  # a code as written: most rows
        return table[raw]
    raw = raw.upper()
    if "SEDERAJAT" in raw:
        raw = _SEDERAJAT.sub("", raw)
    if not raw:
        if required:
            raise RowProblem(_("%(column)s is empty.", column=what))
        return None
    if raw not in table:
        raise RowProblem(_("%(column)s has a value that is not one of its codes: %(value)s", column=what,
                           value=raw[:40]))
    return table[raw]


def _nik(value, what: str, required: bool = True) -> str | None:
    if isinstance(value, (int, float)):
        raise RowProblem(_("%(column)s was stored as a number, which loses its last digits; it must be text.",
                           column=what))
    raw = _text(value)
    if len(raw) == 16 and raw.isascii() and raw.isdigit():
        return raw
    raw = raw.replace(" ", "")
    if not raw:
        if required:
            raise RowProblem(_("%(column)s is empty.", column=what))
        return None
    if _MANGLED.match(raw):
        raise RowProblem(_("%(column)s was turned into a number by a spreadsheet (%(value)s); its digits are "
                           "lost.", column=what, value=raw[:20]))
    if not _DIGITS16.match(raw):
        raise RowProblem(_("%(column)s is not 16 digits.", column=what))
    return raw


def _date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = _text(value).replace("/", "-")
    if len(raw) == 10 and raw[2] == "-" and raw[5] == "-" and raw.isascii():
        try:
            return date(int(raw[6:]), int(raw[3:5]), int(raw[:2]))
        except ValueError:
            raise RowProblem(_("TGL_LHR is not a date (DD-MM-YYYY or YYYY-MM-DD): %(value)s", value=raw)) from None
    try:
        if re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", raw):
            return date.fromisoformat("-".join(part.zfill(2) for part in raw.split("-")))
        if re.match(r"^\d{1,2}-\d{1,2}-\d{4}$", raw):
            day, month, year = raw.split("-")
            return date(int(year), int(month), int(day))
    except ValueError:
        pass
    raise RowProblem(_("TGL_LHR is not a date (DD-MM-YYYY or YYYY-MM-DD): %(value)s", value=raw[:20] or "-"))


def _region_part(value, width: int, what: str) -> str:
    raw = _text(value)
    if not (raw.isascii() and raw.isdigit()) or len(raw) > width:
        raise RowProblem(_("%(column)s is not a region code: %(value)s", column=what, value=raw[:20] or "-"))
    return raw.zfill(width)


class RowReader:
    """Turns the cells of one row into a person, or a RowProblem saying why not."""

    def __init__(self, names: dict[str, int], district: str, villages: frozenset[str], extract_date: date):
        self.names, self.district, self.villages, self.on = names, district, villages, extract_date
        self.regencies = known_regency_codes()
        self._positions: dict[tuple, tuple] = {}

    def cell(self, values: list, name: str):
        i = self.names.get(name)
        return values[i] if i is not None and i < len(values) else None

    def cells(self, values: list, names: tuple) -> list:
        """The cells of ``names`` (None where the column or the cell is missing)."""
        positions = self._positions.get(names)
        if positions is None:
            positions = self._positions[names] = tuple(-1 if self.names.get(name) is None else self.names[name]
                                                       for name in names)
        n = len(values)
        return [values[i] if 0 <= i < n else None for i in positions]

    def area_code(self, values: list) -> str:
        prop, kab, kec, kel = self.cells(values, ("NO_PROP", "NO_KAB", "NO_KEC", "NO_KEL"))
        return ".".join((_region_part(prop, 2, "NO_PROP"), _region_part(kab, 2, "NO_KAB"),
                         _region_part(kec, 2, "NO_KEC"), _region_part(kel, 4, "NO_KEL")))

    FIELDS = ("NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "STAT_HBKEL", "STAT_KWN", "PDDK_AKH", "NIK_IBU",
              "NIK_AYAH", "AKTA_LHR", "NO_AKTA_LHR")

    def read(self, values: list) -> dict:
        area = self.area_code(values)
        if not area.startswith(self.district + "."):
            raise OtherDistrict(_("The row is of another district (%(area)s).", area=area))
        if area not in self.villages:
            raise RowProblem(_("%(area)s is not a village of this district.", area=area))
        (nik_cell, kk_cell, name_cell, sex_cell, born_cell, rel_cell, marital_cell, education_cell, mother_cell,
         father_cell, akta_cell, akta_number_cell) = self.cells(values, self.FIELDS)
        nik = _nik(nik_cell, "NIK")
        if f"{nik[:2]}.{nik[2:4]}" not in self.regencies:
            raise RowProblem(_("NIK does not start with a known region code."))
        kk = _nik(kk_cell, "NO_KK")
        name = _text(name_cell)[:200]
        if not name:
            raise RowProblem(_("%(column)s is empty.", column="NAMA_LGKP"))
        sex = _code(sex_cell, SEXES, "JENIS_KLMIN")
        born = _date(born_cell)
        if born > self.on or born.year < self.on.year - 130:
            raise RowProblem(_("TGL_LHR is not a possible birth date: %(value)s", value=born.isoformat()))
        has = True
        if "AKTA_LHR" in self.names:
            has = _code(akta_cell, CERTIFICATES, "AKTA_LHR", required="NO_AKTA_LHR" not in self.names) != 1
        if "NO_AKTA_LHR" in self.names:
            has = has and bool(_text(akta_number_cell))
        age = self.on.year - born.year - ((self.on.month, self.on.day) < (born.month, born.day))
        return {
            "nik": nik, "kk_number": kk, "name": name, "sex": sex, "birth_date": born, "age": age,
            "relationship": _code(rel_cell, RELATIONSHIPS, "STAT_HBKEL"),
            "marital_status": _code(marital_cell, MARITAL, "STAT_KWN", required=False),
            "education": _code(education_cell, EDUCATION, "PDDK_AKH", required=False),
            "nik_mother": _nik(mother_cell, "NIK_IBU", required=False),
            "nik_father": _nik(father_cell, "NIK_AYAH", required=False),
            "area_code": area, "has_birth_certificate": has,
            **(self.letter_fields(values) if age < 18 and not has else NO_LETTER_FIELDS),
        }

    def letter_fields(self, values: list) -> dict:
        place, mother, father, street, rt, rw = (_text(v) for v in self.cells(values, LETTER_FIELDS))
        address = street
        if rt or rw:
            address = ", ".join(part for part in (street, f"RT {rt or '-'}/RW {rw or '-'}") if part)
        return {"birth_place": place[:100] or None, "mother_name": mother[:200] or None,
                "father_name": father[:200] or None, "address": address[:300] or None}


NO_LETTER_FIELDS = {"birth_place": None, "mother_name": None, "father_name": None, "address": None}


class OtherDistrict(RowProblem):
    pass


# ---- the import ---------------------------------------------------------------------------------

def villages_of(district: str) -> frozenset[str]:
    return frozenset(db.session.scalars(select(Area.code).where(Area.level == "village",
                                                                Area.code.startswith(district + "."))))


def load(job: PopulationImport, path: Path, kind: str) -> None:
    """Read the file into the import's rows, committing batch by batch; BadExtract for a file
    refused whole. The counts and the first errors are kept on ``job``."""
    rows = rows_of(path, kind)
    header = next(rows, None)
    if header is None:
        raise BadExtract(_("The file is empty."))
    reader = RowReader(header_index(header), job.district_code, villages_of(job.district_code), job.extract_date)
    seen: set[int] = set()
    batch: list[dict] = []
    errors: list[dict] = []
    counts = {"rows": 0, "accepted": 0, "rejected": 0, "other": 0}
    table = PopulationPerson.__table__
    job_id = job.id

    columns = ("import_id", "row_number", "nik", "kk_number", "name", "sex", "birth_date", "age", "relationship",
               "marital_status", "education", "nik_mother", "nik_father", "area_code", "has_birth_certificate",
               "birth_place", "mother_name", "father_name", "address")
    connection = db.session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    # The driver's executemany, without building a parameter dict per row: a million rows.
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join([mark] * len(columns))})"

    def flush_batch():
        if batch:
            db.session.connection().exec_driver_sql(sql, [tuple(row[c] for c in columns) for row in batch])
            batch.clear()
        db.session.execute(update(PopulationImport).where(PopulationImport.id == job_id).values(
            rows=counts["rows"], accepted=counts["accepted"], rejected=counts["rejected"], errors=errors))
        db.session.commit()

    for number, values in enumerate(rows, start=2):  # the header is row 1
        if not any(_text(v) for v in values):
            continue  # a blank line is no row
        counts["rows"] += 1
        try:
            person = reader.read(values)
            key = int(person["nik"])
            if key in seen:
                raise RowProblem(_("NIK appears on an earlier row too."))
            seen.add(key)
        except RowProblem as problem:
            counts["rejected"] += 1
            if isinstance(problem, OtherDistrict):
                counts["other"] += 1
            if len(errors) < ERRORS_KEPT:
                errors.append({"row": number, "message": str(problem)})
            if counts["rows"] == 1000 and counts["other"] > 500:
                break  # another district's extract: said below without reading it all
            continue
        person["import_id"], person["row_number"] = job_id, number
        batch.append(person)
        counts["accepted"] += 1
        if len(batch) >= BATCH:
            flush_batch()
    if counts["other"] > counts["accepted"]:
        raise BadExtract(_("This is an extract of another district, not of %(district)s.",
                           district=job.district_code))
    if not counts["accepted"]:
        raise BadExtract(_("No row of the file could be read."))
    flush_batch()


def list_rows(import_id: int) -> None:
    """The outreach rows of a complete extract: one per child per rule."""
    for entry in RULES:
        db.session.execute(list_outreach(entry, import_id))


AGE_GROUPS = ((0, 4), (5, 9), (10, 14), (15, 17))


def age_group_of(age_column):
    return case(*[(age_column <= high, f"{low}-{high}") for low, high in AGE_GROUPS])


def count_rows(import_id: int) -> None:
    """The extract's counts (PopulationCount): children per village, sex and age group with
    their birth certificates, and outreach rows per village and rule."""
    p = PopulationPerson
    group = age_group_of(p.age)
    db.session.execute(insert(PopulationCount).from_select(
        ["import_id", "area_code", "sex", "age_group", "n", "with_certificate"],
        select(literal(import_id), p.area_code, p.sex, group, func.count(),
               func.sum(case((p.has_birth_certificate, 1), else_=0)))
        .where(p.import_id == import_id, p.age < 18).group_by(p.area_code, p.sex, group)))
    o = OutreachItem
    db.session.execute(insert(PopulationCount).from_select(
        ["import_id", "area_code", "rule", "n", "with_certificate"],
        select(literal(import_id), o.area_code, o.rule, func.count(), literal(0))
        .where(o.import_id == import_id).group_by(o.area_code, o.rule)))


def carry_over(old_id: int, new_id: int) -> int:
    """What was done about a child under the previous extract (status, note, worker, case) goes
    on with the same child (NIK) and rule in the new one."""
    worked = db.session.execute(
        select(OutreachItem.id, OutreachItem.rule, PopulationPerson.nik, OutreachItem.status, OutreachItem.note,
               OutreachItem.case_id, OutreachItem.assigned_user_id)
        .join(PopulationPerson, PopulationPerson.id == OutreachItem.person_id)
        .where(OutreachItem.import_id == old_id,
               (OutreachItem.status != "open") | OutreachItem.case_id.is_not(None)
               | OutreachItem.assigned_user_id.is_not(None))).all()
    moved = 0
    for old_item, rule, nik, status, note, case_id, assigned in worked:
        target = db.session.execute(
            select(OutreachItem.id).join(PopulationPerson, PopulationPerson.id == OutreachItem.person_id)
            .where(OutreachItem.import_id == new_id, OutreachItem.rule == rule, PopulationPerson.nik == nik)
        ).scalar()
        if target is not None:
            db.session.execute(update(OutreachItem).where(OutreachItem.id == target).values(
                status=status, note=note, case_id=case_id, assigned_user_id=assigned))
            # The letter issued for the child goes on with the child's row (one letter a row).
            db.session.execute(update(OutreachLetter).where(OutreachLetter.outreach_id == old_item).values(
                outreach_id=target))
            moved += 1
    return moved


def purge(import_id: int) -> None:
    """Remove an extract's people and outreach rows, except the rows that became cases (and
    their people): a replaced extract after the switch, and any extract past its retention."""
    from casemgmt.dbtypes import utcnow

    gone = select(OutreachItem.id).where(OutreachItem.import_id == import_id, OutreachItem.case_id.is_(None))
    db.session.execute(delete(OutreachEvent).where(OutreachEvent.outreach_id.in_(gone)))
    db.session.execute(delete(OutreachLetter).where(OutreachLetter.outreach_id.in_(gone)))
    db.session.execute(delete(OutreachItem).where(OutreachItem.import_id == import_id,
                                                  OutreachItem.case_id.is_(None)))
    kept = select(OutreachItem.person_id).where(OutreachItem.import_id == import_id)
    db.session.execute(delete(PopulationPerson).where(PopulationPerson.import_id == import_id,
                                                      PopulationPerson.id.not_in(kept)))
    db.session.execute(update(PopulationImport).where(PopulationImport.id == import_id).values(purged_at=utcnow()))


def drop_partial(import_id: int) -> None:
    """A failed import leaves nothing behind."""
    db.session.execute(delete(PopulationCount).where(PopulationCount.import_id == import_id))
    db.session.execute(delete(OutreachItem).where(OutreachItem.import_id == import_id))
    db.session.execute(delete(PopulationPerson).where(PopulationPerson.import_id == import_id))


def current_import_id(district: str) -> int | None:
    return db.session.scalar(select(PopulationCurrent.import_id).where(PopulationCurrent.district_code == district))


def switch(job: PopulationImport) -> int | None:
    """Make ``job`` the district's extract in use; the previous one's id (None: the first)."""
    current = db.session.get(PopulationCurrent, job.district_code)
    old = current.import_id if current else None
    if current is None:
        db.session.add(PopulationCurrent(district_code=job.district_code, import_id=job.id))
    else:
        current.import_id = job.id
    return old


def sniff_path(path: Path) -> str:
    with open(path, "rb") as handle:
        return kind_of(handle.read(8192))

