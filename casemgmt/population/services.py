"""Operations on population extracts: starting an import (population.runs runs it), the
outreach lists and what a worker does with a row."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from flask import current_app
from flask_babel import format_number
from flask_babel import gettext as _
from sqlalchemy import String, cast, func, select
from werkzeug.exceptions import NotFound

from casemgmt import access, storage
from casemgmt.audit import services as audit
from casemgmt.dbtypes import utcnow
from casemgmt.errors import Forbidden, ValidationFailed
from casemgmt.directory.services import get_area
from casemgmt.extensions import db
from casemgmt.i18n import local_zone
from casemgmt.notify import events
from casemgmt.paging import cursor_of, read_cursor
from casemgmt.population import importer
from casemgmt.population.importer import BadExtract
from casemgmt.population.models import (
    OUTREACH_STATUSES,
    OutreachEvent,
    OutreachItem,
    OutreachLetter,
    OutreachLetterSequence,
    PopulationCount,
    PopulationCurrent,
    PopulationImport,
    PopulationPerson,
)
from casemgmt.population.rules import RULE_NAMES
from casemgmt.transactions import after_commit


# ---- imports ------------------------------------------------------------------------------------

def too_large(size: int | None) -> bool:
    return size is not None and size > current_app.config["POPULATION_MAX_BYTES"]


def size_limit_mb() -> int:
    return current_app.config["POPULATION_MAX_BYTES"] // (1024 * 1024)


def current_of(district: str | None) -> PopulationImport | None:
    import_id = importer.current_import_id(district) if district else None
    return db.session.get(PopulationImport, import_id) if import_id else None


def size_message() -> str:
    return _("The file is larger than %(size)s MB, the most an extract may be.",
             size=format_number(current_app.config["POPULATION_MAX_BYTES"] // (1024 * 1024)))


def _new_import(user, district: str, filename: str) -> PopulationImport:
    job = PopulationImport(district_code=district, user_id=getattr(user, "id", None), filename=filename[:200],
                           status="queued", extract_date=utcnow().astimezone(local_zone()).date(), errors=[])
    db.session.add(job)
    db.session.flush()
    return job


def _check_district(user, area_code: str | None) -> str:
    district = (area_code or "").strip()
    if district.count(".") != 1 or not access.imports_population(user, district):
        raise Forbidden(_("Only the coordinators and administrators of %(area)s may load its extract.",
                          area=district or "-"))
    return district


def start_import(user, upload, area_code: str | None) -> PopulationImport:
    """Keep an uploaded extract and queue its import (the worker reads it after this commits).
    ``upload``: a werkzeug FileStorage. The file's kind is told from its first bytes."""
    district = _check_district(user, area_code)
    if upload is None or not upload.filename:
        raise ValidationFailed({"file": _("Choose the extract file (CSV or XLSX).")})
    stream = upload.stream
    head = stream.read(8192)
    importer.kind_of(head)
    stream.seek(0)
    job = _new_import(user, district, upload.filename)
    job.storage_key = f"population/{job.id}-{secrets.token_hex(8)}"
    stored = storage.save(job.storage_key, stream)
    if too_large(stored.size):
        raise BadExtract(size_message())
    audit.record("population_import_requested", "population_import", job.id, actor=user,
                 after={"district": district, "bytes": stored.size})
    job_id = job.id
    from casemgmt.population.runs import enqueue

    after_commit(lambda: enqueue(job_id))
    return job


def import_of(user, import_id: int) -> PopulationImport:
    job = db.session.get(PopulationImport, import_id)
    if job is None or not access.imports_population(user, job.district_code):
        raise NotFound()
    return job


def import_json(job: PopulationImport) -> dict:
    return {"id": job.id, "status": job.status, "rows": job.rows, "accepted": job.accepted,
            "rejected": job.rejected, "errors": list(job.errors or [])[:importer.ERRORS_KEPT],
            **({"message": job.message} if job.message else {})}


# ---- outreach -----------------------------------------------------------------------------------

@dataclass
class OutreachFilters:
    rule: str | None = None
    area_code: str | None = None
    status: str | None = None

    def problems(self) -> dict:
        found = {}
        if self.rule and self.rule not in RULE_NAMES:
            found["rule"] = _("Choose one of the outreach rules.")
        if self.status and self.status not in OUTREACH_STATUSES:
            found["status"] = _("Choose one of the statuses.")
        if self.area_code and not all(part.isdigit() for part in self.area_code.split(".")):
            found["area_code"] = _("Give a region code, for example 73.06.01.")
        return found


def _scope_or_forbidden(user) -> tuple[str, str]:
    scope = access.outreach_scope(user)
    if scope is None:
        raise Forbidden()
    return scope


def _current(district: str) -> int | None:
    return importer.current_import_id(district)


LIST_COLUMNS = (OutreachItem.id, OutreachItem.rule, OutreachItem.status, OutreachItem.case_id,
                OutreachItem.area_code, OutreachItem.assigned_user_id, OutreachItem.version, PopulationPerson.name,
                PopulationPerson.sex, PopulationPerson.birth_date, PopulationPerson.kk_number)


def outreach_page(user, filters: OutreachFilters, limit: int = 50, cursor: str | None = None, log: bool = True):
    """A page of the outreach rows the user may see (by id), and the next page's cursor. Writes
    one access-log row for the list (``log``)."""
    problems = filters.problems()
    if problems:
        raise ValidationFailed(problems)
    district, own = _scope_or_forbidden(user)
    area = (filters.area_code or own).strip()
    if not access.area_contains(own, area):
        place = get_area(own)
        raise Forbidden(_("You may see the outreach lists of %(area)s only.",
                          area=place.display_name if place else own))
    import_id = _current(district)
    if log:
        audit.log_access(user, "outreach_list", "outreach", area)
    if import_id is None:
        return [], None
    # A village is one value of the list's index (import, area, id), read in id order; a larger
    # area is a range of it.
    in_area = (OutreachItem.area_code == area if area.count(".") == 3
               else access.within(OutreachItem.area_code, area))
    query = (select(*LIST_COLUMNS).join(PopulationPerson, PopulationPerson.id == OutreachItem.person_id)
             .where(OutreachItem.import_id == import_id, in_area))
    if filters.rule:
        query = query.where(OutreachItem.rule == filters.rule)
    if filters.status:
        query = query.where(OutreachItem.status == filters.status)
    if cursor:
        (last,) = read_cursor(cursor, int)
        query = query.where(OutreachItem.id > last)
    rows = db.session.execute(query.order_by(OutreachItem.id).limit(limit + 1)).all()
    if len(rows) > limit:
        return rows[:limit], cursor_of(rows[limit - 1].id)
    return rows, None


def export_rows(user, filters: OutreachFilters):
    """The coordinator's own outreach list, every page of it, for a CSV: the one export that
    names children of the extract. Village workers and everyone else get none (Forbidden)."""
    scope = access.outreach_scope(user)
    if scope is None or user.role != "coordinator":
        raise Forbidden()
    cursor = None
    while True:
        rows, cursor = outreach_page(user, filters, 1000, cursor, log=cursor is None)
        yield from rows
        if cursor is None:
            return


def outreach_json(row) -> dict:
    return {"id": row.id, "rule": row.rule, "name": row.name, "sex": row.sex,
            "birth_date": row.birth_date.isoformat(), "area_code": row.area_code, "kk_number": row.kk_number,
            "status": row.status, "case_id": row.case_id}


def outreach_or_404(user, item_id: int) -> OutreachItem:
    """An outreach row the user may see by name; 404 for any other (and log the view)."""
    scope = access.outreach_scope(user)
    item = db.session.get(OutreachItem, item_id)
    if item is None or scope is None:
        raise NotFound()
    district, own = scope
    if item.import_id != _current(district) and item.case_id is None:
        raise NotFound()
    if not access.area_contains(own, item.area_code):
        raise NotFound()
    audit.log_access(user, "outreach_view", "outreach", item.id, case_id=item.case_id)
    return item


def _event(item: OutreachItem, user, note: str | None = None) -> None:
    item.updated_at = utcnow()
    db.session.add(OutreachEvent(outreach_id=item.id, status=item.status, note=note, user_id=user.id,
                                 case_id=item.case_id))


def set_status(user, item: OutreachItem, status: str, note: str | None) -> OutreachItem:
    note = (note or "").strip()[:2000] or None
    if status not in OUTREACH_STATUSES:
        raise ValidationFailed({"status": _("Choose one of the statuses.")})
    if status == "not_applicable" and not note:
        raise ValidationFailed({"note": _("Say why the row does not apply.")})
    before = {"status": item.status}
    item.status = status
    item.note = note or item.note
    _event(item, user, note)
    audit.record("outreach_status", "outreach", item.id, actor=user, before=before, after={"status": status})
    db.session.flush()
    return item


def assign(user, item: OutreachItem, worker) -> OutreachItem:
    """Give an outreach row to a village worker of its village (the coordinator of the district).
    The row then appears in the worker's tasks."""
    district = access.district_of(item.area_code)
    if not access.coordinates(user, district):
        raise Forbidden()
    if worker is None or worker.role != "village_worker" or worker.area_code != item.area_code or not worker.active:
        raise ValidationFailed({"worker": _("Choose a village worker of the row's village.")})
    item.assigned_user_id = worker.id
    if item.status == "open":
        item.status = "in_progress"
    _event(item, user, _("Given to %(name)s.", name=worker.full_name))
    audit.record("outreach_assigned", "outreach", item.id, actor=user, after={"assigned_user_id": worker.id})
    events.outreach_assigned([worker.id], f"{item.id}:{worker.id}", 1, f"/outreach/{item.id}", utcnow())
    db.session.flush()
    return item


def open_case(user, item: OutreachItem, concerns: list, description: str | None):
    """A case in stage report, channel outreach, for the row's child, linked to the row."""
    from casemgmt.cases.intake import register_complaint

    if item.case_id is not None:
        raise ValidationFailed({"case": _("A case was already opened for this row.")})
    person = db.session.get(PopulationPerson, item.person_id)
    raw = {"channel": "outreach", "received_at": utcnow(),
           "reporter": {"name": user.full_name, "phone": None, "relationship": _("outreach"), "anonymous": False},
           "children": [{"name": person.name, "sex": person.sex, "birth_date": person.birth_date, "age_years": None,
                         "nik": person.nik, "area_code": person.area_code, "address": None,
                         "caregiver_name": None, "caregiver_relationship": None, "caregiver_phone": None}],
           "concerns": concerns, "description": description, "urgent": False}
    case = register_complaint(raw, user, {0: "new"}).cases[0]
    item.case_id = case.id
    if item.status == "open":
        item.status = "in_progress"
    _event(item, user, _("Case %(number)s opened.", number=case.number))
    audit.record("outreach_case", "outreach", item.id, actor=user, after={"case_id": case.id})
    db.session.flush()
    return case


# ---- the birth-certificate letter to Dukcapil ------------------------------------------------------

LETTER_RULE = "no_birth_certificate"


def letter_of(item: OutreachItem) -> OutreachLetter | None:
    return db.session.scalar(select(OutreachLetter).where(OutreachLetter.outreach_id == item.id))


def dukcapil_of(district: str):
    """The district's Dukcapil office in the directory: the one registered at the district
    itself first, else the first of its area by name."""
    from casemgmt.directory.models import Organisation

    return db.session.scalars(
        select(Organisation).where(Organisation.kind == "dukcapil", Organisation.active.is_(True),
                                   access.within(Organisation.area_code, district))
        .order_by((Organisation.area_code != district), Organisation.name).limit(1)).first()


def issue_letter(user, item: OutreachItem) -> tuple[OutreachLetter, bool]:
    """The letter to the district's Dukcapil asking for the birth certificate of the child of an
    outreach row of rule no_birth_certificate, and whether it was made now. The row goes in
    progress with an entry naming the letter, and the office's members are told.

    A row has one letter: issuing it again answers the letter already issued (same number,
    nothing new written, nobody told twice). A second number for the same child would look like
    a second request to Dukcapil, and a worker on a weak connection who taps again, or the
    coordinator after the volunteer, needs the letter, not a refusal."""
    from casemgmt.cases.intake import next_in_sequence
    from casemgmt.directory.models import Area, Organisation

    if not access.works_outreach(user, item.area_code):
        raise Forbidden()
    if item.rule != LETTER_RULE:
        raise ValidationFailed({"rule": _("A letter to Dukcapil is for a child without a birth certificate only.")})
    existing = letter_of(item)
    if existing is not None:
        return existing, False
    if item.status in ("resolved", "not_applicable"):
        raise ValidationFailed({"status": _("The row is closed; set it open or in progress before issuing a "
                                            "letter.")})
    sender = db.session.get(Organisation, user.organisation_id) if user.organisation_id else None
    if sender is None:
        raise ValidationFailed({"organisation": _("Your account belongs to no organisation; ask an administrator "
                                                  "to set it.")})
    district = access.district_of(item.area_code)
    office = dukcapil_of(district)
    if office is None:
        place = get_area(district)
        raise ValidationFailed({"dukcapil": _("No Dukcapil office of %(district)s is in the directory; ask an "
                                              "administrator to add it.",
                                              district=place.display_name if place else district)})
    person = db.session.get(PopulationPerson, item.person_id)
    village = db.session.get(Area, item.area_code)
    now = utcnow()
    # The row is written first: a second issue at the same moment then waits for this one and
    # meets a changed version (409), not a second letter.
    before = {"status": item.status}
    if item.status == "open":
        item.status = "in_progress"
    item.updated_at = now
    db.session.flush()
    year = now.astimezone(local_zone()).year
    serial = next_in_sequence(OutreachLetterSequence.__table__, district, year)
    letter = OutreachLetter(
        outreach_id=item.id, number=f"AKTA/{district.replace('.', '')}/{year}/{serial:05d}", district_code=district,
        from_organisation_id=sender.id, to_organisation_id=office.id, issued_by_id=user.id,
        issued_by_name=user.full_name, issued_at=now,
        child={"name": person.name, "nik": person.nik, "kk_number": person.kk_number, "sex": person.sex,
               "birth_place": person.birth_place, "birth_date": person.birth_date.isoformat(),
               "mother_name": person.mother_name, "father_name": person.father_name, "address": person.address,
               "area_code": item.area_code, "village": village.display_name if village else item.area_code})
    db.session.add(letter)
    db.session.flush()
    _event(item, user, _("Letter %(number)s to %(office)s issued.", number=letter.number, office=office.name))
    audit.record("outreach_letter", "outreach", item.id, actor=user, before=before,
                 after={"status": item.status, "letter_id": letter.id, "number": letter.number})
    events.outreach_letter(office.id, letter.id, letter.number, user, now)
    db.session.flush()
    return letter, True


def letter_or_404(user, letter_id: int) -> OutreachLetter:
    """A letter the user may read (its row's workers, the addressed office); 404 for any other."""
    letter = db.session.get(OutreachLetter, letter_id)
    if letter is None:
        raise NotFound()
    item = db.session.get(OutreachItem, letter.outreach_id)
    if item is None or not access.reads_outreach_letter(user, letter, item.area_code):
        raise NotFound()
    return letter


def letter_pdf(user, letter: OutreachLetter) -> bytes:
    """The letter as a PDF, the same every time; the view is access-logged."""
    from flask import render_template

    from casemgmt.directory.models import Organisation
    from casemgmt.pdf import html_to_pdf

    child = dict(letter.child)
    child["birth_date"] = date.fromisoformat(child["birth_date"])
    html = render_template("pdf/outreach_letter.html", letter=letter, child=child,
                           sender=db.session.get(Organisation, letter.from_organisation_id),
                           office=db.session.get(Organisation, letter.to_organisation_id))
    audit.log_access(user, "outreach_letter_view", "outreach_letter", letter.id)
    db.session.flush()
    return html_to_pdf(html)[0]


def history(item: OutreachItem) -> list[OutreachEvent]:
    return list(db.session.scalars(select(OutreachEvent).where(OutreachEvent.outreach_id == item.id)
                                   .order_by(OutreachEvent.id)))


def assigned_to(user, limit: int = 50) -> list:
    """The open or in-progress outreach rows given to a village worker, of the extract in use."""
    scope = access.outreach_scope(user)
    if scope is None or user.role != "village_worker":
        return []
    import_id = _current(scope[0])
    if import_id is None:
        return []
    return db.session.execute(
        select(*LIST_COLUMNS).join(PopulationPerson, PopulationPerson.id == OutreachItem.person_id)
        .where(OutreachItem.import_id == import_id, OutreachItem.assigned_user_id == user.id,
               OutreachItem.status.in_(("open", "in_progress"))).order_by(OutreachItem.id).limit(limit)).all()


# ---- counts -------------------------------------------------------------------------------------

def _count_area(user, asked: str | None) -> str:
    own = access.counts_outreach(user)
    if own is None:
        raise Forbidden()
    area = (asked or own).strip()
    if not access.area_contains(own, area) and not access.area_contains(area, own):
        raise Forbidden(_("You may see the counts of %(area)s only.", area=own))
    return area if access.area_contains(own, area) else own


def _current_imports(area: str) -> list[int]:
    """The extracts in use within (or around) an area."""
    rows = db.session.execute(select(PopulationCurrent.district_code, PopulationCurrent.import_id)).all()
    return [import_id for district, import_id in rows
            if access.area_contains(area, district) or access.area_contains(district, area)]


def _rule_counts(area: str, imports: list[int], rule: str | None = None) -> dict:
    """{village: {rule: n}} of the outreach rows of the extracts in use (of one ``rule``)."""
    by_area: dict = {}
    c = PopulationCount
    which = c.rule.is_not(None) if rule is None else c.rule == rule
    for code, rule, n in db.session.execute(
            select(c.area_code, c.rule, c.n).where(c.import_id.in_(imports), which,
                                                   access.within(c.area_code, area)).order_by(c.area_code, c.rule)):
        by_area.setdefault(code, {})[rule] = n
    return by_area


def summary(user, asked: str | None) -> dict:
    """Outreach rows per village and rule, and the children (under 18) of the area. Analysts see
    them protected together with the area's coverage (protected_counts)."""
    area = _count_area(user, asked)
    hide = access.small_counts_hidden(user)
    imports = _current_imports(area)
    audit.log_access(user, "outreach_summary", "outreach", area)
    if not imports:
        return {"by_area": {}, "children": 0}
    if hide:
        return protected_counts(area, imports)[1]
    raw = _coverage_raw(area, imports, None, parts=())
    return {"by_area": _rule_counts(area, imports), "children": raw["children"]}


def coverage(area: str, hide: bool, level: int | None = None) -> dict | None:
    """Birth-certificate coverage of the children (under 18) of an area's extracts in use: in
    all, by sex, by age group and by the areas one level down (or at ``level`` dots: 2
    kecamatan, 3 village), each {"children", "with_certificate", "percent"}. None when no
    extract covers the area. ``hide``: as analysts see it (protected_counts), no percentage from
    a hidden count."""
    imports = _current_imports(area)
    if not imports:
        return None
    if hide:
        return protected_counts(area, imports, level, coverage_only=True)[0]
    return _with_percent(_coverage_raw(area, imports, level))


def _coverage_raw(area: str, imports: list[int], level: int | None,
                  parts=("by_sex", "by_age_group", "by_area")) -> dict:
    """The coverage counts, unprotected, from one grouped read of the counts table (area one
    level down or at ``level``, sex, age group: some hundreds of rows for a province)."""
    level = min(3, area.count(".") + 1) if level is None else level
    c = PopulationCount
    group = func.substr(c.area_code, 1, {0: 2, 1: 5, 2: 8, 3: 13}[level])
    total = {"children": 0, "with_certificate": 0, "by_sex": {}, "by_age_group": {}, "by_area": {}}
    for code, sex, age_group, n, with_cert in db.session.execute(
            select(group, c.sex, c.age_group, func.sum(c.n), func.sum(c.with_certificate))
            .where(c.import_id.in_(imports), c.rule.is_(None), access.within(c.area_code, area))
            .group_by(group, c.sex, c.age_group)):
        n, with_cert = int(n), int(with_cert or 0)
        total["children"] += n
        total["with_certificate"] += with_cert
        for key, value in (("by_sex", sex), ("by_age_group", age_group), ("by_area", code)):
            if key in parts:
                entry = total[key].setdefault(value, {"children": 0, "with_certificate": 0})
                entry["children"] += n
                entry["with_certificate"] += with_cert
    ages = {f"{low}-{high}": i for i, (low, high) in enumerate(importer.AGE_GROUPS)}
    for key in ("by_sex", "by_age_group", "by_area"):
        total[key] = dict(sorted(total[key].items(), key=lambda kv: (ages.get(kv[0], 99), kv[0] or "")))
    return total


BREAKDOWNS = ("by_sex", "by_age_group", "by_area")


def protected_counts(area: str, imports: list[int], level: int | None = None,
                     coverage_only: bool = False) -> tuple[dict, dict]:
    """The coverage and the outreach summary of an area as analysts see them, protected as one
    table (reports.suppression.protect), since they are shown together and add up: each row's
    children are those with a certificate plus those without (implied); each breakdown adds up
    to the area's total; the no_birth_certificate rows of an area's villages are its children
    without a certificate. Both answers hide the same cells."""
    from casemgmt.reports.suppression import protect

    raw = _coverage_raw(area, imports, level)
    # The other rules' counts are in no sum: they never change what the coverage hides, so an
    # answer of the coverage alone reads the no_birth_certificate counts only.
    rules = _rule_counts(area, imports, LETTER_RULE if coverage_only else None)
    values, sums, implied = {}, [], set()

    def row(key, entry):
        values[key + ("children",)] = entry["children"]
        values[key + ("with",)] = entry["with_certificate"]
        values[key + ("without",)] = entry["children"] - entry["with_certificate"]
        implied.add(key + ("without",))
        sums.append((key + ("children",), [key + ("with",), key + ("without",)]))

    row(("all",), raw)
    for breakdown in BREAKDOWNS:
        for value, entry in raw[breakdown].items():
            row((breakdown, value), entry)
        for column in ("children", "with", "without"):
            sums.append((("all", column), [(breakdown, value, column) for value in raw[breakdown]]))
    for village, counts in rules.items():
        for rule_name, n in counts.items():
            values[("rule", village, rule_name)] = n
    for value in raw["by_area"]:
        villages = [("rule", village, LETTER_RULE) for village in rules
                    if access.area_contains(value, village) and LETTER_RULE in rules[village]]
        if villages:
            sums.append((("by_area", value, "without"), villages))
    shown = protect(values, sums, set(values) - implied)

    def entry(key) -> dict:
        return {"children": shown[key + ("children",)], "with_certificate": shown[key + ("with",)]}

    coverage = {"children": shown[("all", "children")], "with_certificate": shown[("all", "with")]}
    for breakdown in BREAKDOWNS:
        coverage[breakdown] = {value: entry((breakdown, value)) for value in raw[breakdown]}
    summary_shown = {"by_area": {village: {rule_name: shown[("rule", village, rule_name)] for rule_name in counts}
                                 for village, counts in rules.items()},
                     "children": shown[("all", "children")]}
    return _with_percent(coverage), summary_shown


def _percent(entry: dict):
    n, with_cert = entry["children"], entry["with_certificate"]
    if isinstance(n, str) or not n:
        return None
    return round(100 * with_cert / n, 1) if not isinstance(with_cert, str) else None


def _with_percent(total: dict) -> dict:
    for key in BREAKDOWNS:
        for entry in total[key].values():
            entry["percent"] = _percent(entry)
    total["percent"] = _percent(total)
    return total


def home_coverage(user) -> dict | None:
    """Birth-certificate coverage on a home page: the coordinator's district by kecamatan, the
    analyst's area by the areas one level down (protected as on the indicators page, so both
    hide the same cells), with a chart. None for other roles and where no extract is in use.
    The coordinator's is one statement over the counts table; nothing reads the extract's people."""
    from casemgmt.directory.models import Area

    if user.role == "coordinator":
        area = access.district_of(user.area_code)
    elif user.role == "analyst":
        area = access.counts_outreach(user)
    else:
        return None
    if not area:
        return None
    if user.role == "analyst":
        imports = _current_imports(area)
        if not imports:
            return None
        coverage = protected_counts(area, imports, coverage_only=True)[0]
        codes = list(coverage["by_area"])
        names = dict(db.session.execute(select(Area.code, Area.name).where(Area.code.in_(codes or ["-"]))).all())
    else:
        c = PopulationCount
        group = func.substr(c.area_code, 1, 8).label("code")
        in_use = select(PopulationCurrent.import_id).where(PopulationCurrent.district_code == area)
        counts = (select(group, func.sum(c.n).label("n"), func.sum(c.with_certificate).label("w"))
                  .where(c.import_id.in_(in_use), c.rule.is_(None), access.within(c.area_code, area))
                  .group_by(group).subquery())
        rows = db.session.execute(select(counts.c.code, Area.name, counts.c.n, counts.c.w)
                                  .outerjoin(Area, Area.code == counts.c.code).order_by(counts.c.code)).all()
        if not rows:
            return None
        names = {code: name for code, name, _n, _w in rows if name}
        coverage = {"children": sum(int(n) for *_x, n, _w in rows),
                    "with_certificate": sum(int(w or 0) for *_x, w in rows),
                    "by_area": {code: {"children": int(n), "with_certificate": int(w or 0)}
                                for code, _name, n, w in rows},
                    "by_sex": {}, "by_age_group": {}}
        coverage = _with_percent(coverage)
    from flask_babel import gettext

    from casemgmt.reports import charts

    chart = charts.bar_chart({code: entry["percent"] for code, entry in coverage["by_area"].items()
                              if entry["percent"] is not None}, names,
                             gettext("With a birth certificate (%)"), width=360, suffix="%")
    from casemgmt.reports.suppression import any_secondary

    return {"area": area, "coverage": coverage, "names": names, "chart": chart,
            "secondary": any_secondary([coverage["children"], coverage["with_certificate"], coverage["by_area"]])}


def coverage_indicator(area: str, user) -> dict | None:
    """GET /api/v1/indicators' birth_certificate_coverage, for the pages and the PDF too."""
    return coverage(area, access.small_counts_hidden(user))


def resolved_per_month(area: str) -> dict[str, int]:
    """Outreach rows resolved (or found not to apply) per month, from their history."""
    month = func.substr(cast(OutreachEvent.created_at, String), 1, 7)
    rows = db.session.execute(
        select(month, func.count(func.distinct(OutreachEvent.outreach_id)))
        .join(OutreachItem, OutreachItem.id == OutreachEvent.outreach_id)
        .where(OutreachEvent.status.in_(("resolved", "not_applicable")), access.within(OutreachItem.area_code, area))
        .group_by(month).order_by(month)).all()
    return {m: n for m, n in rows}
