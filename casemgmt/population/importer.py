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
from sqlalchemy import delete, insert, select, update

from casemgmt.cases.identity import age_on, known_regency_codes
from casemgmt.directory.models import Area
from casemgmt.errors import ServiceError
from casemgmt.extensions import db
from casemgmt.population.models import OutreachEvent, OutreachItem, PopulationCurrent, PopulationImport, PopulationPerson
from casemgmt.population.rules import RULES, list_outreach

BATCH = 5000
ERRORS_KEPT = 100
MAX_ZIP_ENTRIES = 200
MAX_ZIP_RATIO = 100  # a deflated sheet of text shrinks some 5 to 20 times; a bomb by thousands

REQUIRED = ("NIK", "NO_KK", "NAMA_LGKP", "JENIS_KLMIN", "TGL_LHR", "STAT_HBKEL", "NO_PROP", "NO_KAB", "NO_KEC",
            "NO_KEL")
CERTIFICATE = ("AKTA_LHR", "NO_AKTA_LHR")  # either, or both
OPTIONAL = ("STAT_KWN", "PDDK_AKH", "NIK_IBU", "NIK_AYAH")


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
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", str(value)).strip()


def _code(value, table: dict, what: str, required: bool = True):
    raw = _SEDERAJAT.sub("", _text(value).upper())
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
    raw = _text(value).replace(" ", "")
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
    if not raw.isdigit() or len(raw) > width:
        raise RowProblem(_("%(column)s is not a region code: %(value)s", column=what, value=raw[:20] or "-"))
    return raw.zfill(width)


class RowReader:
    """Turns the cells of one row into a person, or a RowProblem saying why not."""

    def __init__(self, names: dict[str, int], district: str, villages: frozenset[str], extract_date: date):
        self.names, self.district, self.villages, self.on = names, district, villages, extract_date
        self.regencies = known_regency_codes()

    def cell(self, values: list, name: str):
        i = self.names.get(name)
        return values[i] if i is not None and i < len(values) else None

    def area_code(self, values: list) -> str:
        parts = [_region_part(self.cell(values, "NO_PROP"), 2, "NO_PROP"),
                 _region_part(self.cell(values, "NO_KAB"), 2, "NO_KAB"),
                 _region_part(self.cell(values, "NO_KEC"), 2, "NO_KEC"),
                 _region_part(self.cell(values, "NO_KEL"), 4, "NO_KEL")]
        return ".".join(parts)

    def read(self, values: list) -> dict:
        c = self.cell
        area = self.area_code(values)
        if not area.startswith(self.district + "."):
            raise OtherDistrict(_("The row is of another district (%(area)s).", area=area))
        if area not in self.villages:
            raise RowProblem(_("%(area)s is not a village of this district.", area=area))
        nik = _nik(c(values, "NIK"), "NIK")
        if f"{nik[:2]}.{nik[2:4]}" not in self.regencies:
            raise RowProblem(_("NIK does not start with a known region code."))
        kk = _nik(c(values, "NO_KK"), "NO_KK")
        name = _text(c(values, "NAMA_LGKP"))[:200]
        if not name:
            raise RowProblem(_("%(column)s is empty.", column="NAMA_LGKP"))
        sex = _code(c(values, "JENIS_KLMIN"), SEXES, "JENIS_KLMIN")
        born = _date(c(values, "TGL_LHR"))
        if born > self.on or born.year < self.on.year - 130:
            raise RowProblem(_("TGL_LHR is not a possible birth date: %(value)s", value=born.isoformat()))
        has = True
        if "AKTA_LHR" in self.names:
            has = _code(c(values, "AKTA_LHR"), CERTIFICATES, "AKTA_LHR", required="NO_AKTA_LHR" not in self.names) != 1
        if "NO_AKTA_LHR" in self.names:
            has = has and bool(_text(c(values, "NO_AKTA_LHR")))
        return {
            "nik": nik, "kk_number": kk, "name": name, "sex": sex, "birth_date": born,
            "age": age_on(born, self.on),
            "relationship": _code(c(values, "STAT_HBKEL"), RELATIONSHIPS, "STAT_HBKEL"),
            "marital_status": _code(c(values, "STAT_KWN"), MARITAL, "STAT_KWN", required=False),
            "education": _code(c(values, "PDDK_AKH"), EDUCATION, "PDDK_AKH", required=False),
            "nik_mother": _nik(c(values, "NIK_IBU"), "NIK_IBU", required=False),
            "nik_father": _nik(c(values, "NIK_AYAH"), "NIK_AYAH", required=False),
            "area_code": area, "has_birth_certificate": has,
        }


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

    def flush_batch():
        if batch:
            db.session.execute(insert(table), batch)
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


def carry_over(old_id: int, new_id: int) -> int:
    """What was done about a child under the previous extract (status, note, worker, case) goes
    on with the same child (NIK) and rule in the new one."""
    worked = db.session.execute(
        select(OutreachItem.rule, PopulationPerson.nik, OutreachItem.status, OutreachItem.note, OutreachItem.case_id,
               OutreachItem.assigned_user_id)
        .join(PopulationPerson, PopulationPerson.id == OutreachItem.person_id)
        .where(OutreachItem.import_id == old_id,
               (OutreachItem.status != "open") | OutreachItem.case_id.is_not(None)
               | OutreachItem.assigned_user_id.is_not(None))).all()
    moved = 0
    for rule, nik, status, note, case_id, assigned in worked:
        target = db.session.execute(
            select(OutreachItem.id).join(PopulationPerson, PopulationPerson.id == OutreachItem.person_id)
            .where(OutreachItem.import_id == new_id, OutreachItem.rule == rule, PopulationPerson.nik == nik)
        ).scalar()
        if target is not None:
            db.session.execute(update(OutreachItem).where(OutreachItem.id == target).values(
                status=status, note=note, case_id=case_id, assigned_user_id=assigned))
            moved += 1
    return moved


def purge(import_id: int) -> None:
    """Remove an extract's people and outreach rows, except the rows that became cases (and
    their people): a replaced extract after the switch, and any extract past its retention."""
    from casemgmt.dbtypes import utcnow

    gone = select(OutreachItem.id).where(OutreachItem.import_id == import_id, OutreachItem.case_id.is_(None))
    db.session.execute(delete(OutreachEvent).where(OutreachEvent.outreach_id.in_(gone)))
    db.session.execute(delete(OutreachItem).where(OutreachItem.import_id == import_id,
                                                  OutreachItem.case_id.is_(None)))
    kept = select(OutreachItem.person_id).where(OutreachItem.import_id == import_id)
    db.session.execute(delete(PopulationPerson).where(PopulationPerson.import_id == import_id,
                                                      PopulationPerson.id.not_in(kept)))
    db.session.execute(update(PopulationImport).where(PopulationImport.id == import_id).values(purged_at=utcnow()))


def drop_partial(import_id: int) -> None:
    """A failed import leaves nothing behind."""
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

