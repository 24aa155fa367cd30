"""Case operations: registering a complaint, finding duplicates, numbering, listing, editing,
notes and attachments. Each operation is one transaction with its audit rows."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casemgmt.access import district_of, scope_cases, scope_district, within
from casemgmt.audit import services as audit
from casemgmt import paging
from casemgmt.cases import listing, search
from casemgmt.cases.identity import NIK_MESSAGES, age_on, check_nik, estimated_birth_date, name_key
from casemgmt.cases.models import (
    CHANNELS,
    RISK_LEVELS,
    Attachment,
    Case,
    CaseConcern,
    CaseEvent,
    CaseNumberSequence,
    Child,
    Complaint,
    ComplaintLink,
)
from casemgmt.codes import CONCERNS, SEXES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Area
from casemgmt.errors import ServiceError, StaleVersion, ValidationFailed
from casemgmt.extensions import db
from casemgmt.i18n import local_zone
from casemgmt.workflow.deadlines import triage_due
from casemgmt.workflow.stages import STAGE_CODES

MAX_CHILDREN = 10
CHILD_FIELDS = ("name", "sex", "birth_date", "age_years", "nik", "area_code", "address",
                "caregiver_name", "caregiver_relationship", "caregiver_phone")


# ---- validation -----------------------------------------------------------------------------

def _text(value, limit: int) -> str | None:
    value = (value or "").strip() if isinstance(value, str) else value
    if value in ("", None):
        return None
    return str(value)[:limit]


def _village(code: str | None) -> Area | None:
    area = db.session.get(Area, code) if code else None
    return area if area is not None and area.level == "village" else None


@dataclass
class ChildCheck:
    data: dict
    warnings: list[str] = field(default_factory=list)


def validate_child(raw: dict, prefix: str, received: date, errors: dict) -> ChildCheck:
    """Clean one child's fields; put problems in ``errors`` under prefix+field."""
    data = {k: raw.get(k) for k in CHILD_FIELDS}
    data["name"] = _text(data["name"], 120)
    if not data["name"]:
        errors[prefix + "name"] = _("Enter the child's name.")
    elif not name_key(data["name"]):
        errors[prefix + "name"] = _("The name must contain letters.")
    if data["sex"] not in SEXES:
        errors[prefix + "sex"] = _("Choose girl or boy.")
    birth, age = data.get("birth_date"), data.get("age_years")
    if isinstance(birth, str):
        try:
            birth = date.fromisoformat(birth)
        except ValueError:
            errors[prefix + "birth_date"] = _("Give the birth date as a date.")
            birth = None
    if birth is not None:
        if birth > received:
            errors[prefix + "birth_date"] = _("The birth date is after the complaint was received.")
        elif age_on(birth, received) >= 18:
            errors[prefix + "birth_date"] = _("The child is 18 or older; this service is for children.")
        data["birth_date"], data["birth_date_estimated"] = birth, False
    elif age not in (None, ""):
        try:
            age = int(age)
        except (TypeError, ValueError):
            age = -1
        if not 0 <= age <= 17:
            errors[prefix + "age_years"] = _("A child's age is 0 to 17 years.")
        else:
            data["birth_date"], data["birth_date_estimated"] = estimated_birth_date(age, received), True
    else:
        errors[prefix + "birth_date"] = _("Give the birth date, or an estimated age.")
    data.pop("age_years", None)
    check = ChildCheck(data)
    nik = _text(data.get("nik"), 40)
    data["nik"] = None
    if nik:
        result = check_nik(nik, birth_date=data.get("birth_date") if not data.get("birth_date_estimated") else None,
                           sex=data["sex"] if data["sex"] in SEXES else None, today=received)
        if result.errors:
            errors[prefix + "nik"] = " ".join(str(NIK_MESSAGES[code]) for code in result.errors)
        else:
            data["nik"] = result.nik
            check.warnings = [str(NIK_MESSAGES[code]) for code in result.warnings]
    if _village(data.get("area_code")) is None:
        errors[prefix + "area_code"] = _("Choose the child's village or kelurahan.")
    for key, limit in (("address", 500), ("caregiver_name", 120), ("caregiver_relationship", 80),
                       ("caregiver_phone", 40)):
        data[key] = _text(data.get(key), limit)
    return check


def validate_complaint(raw: dict, now: datetime | None = None) -> tuple[dict, list[ChildCheck]]:
    """Clean a complaint and its children; ValidationFailed lists every problem at once."""
    now = now or utcnow()
    errors: dict[str, str] = {}
    data: dict = {}
    data["channel"] = raw.get("channel")
    if data["channel"] not in CHANNELS:
        errors["channel"] = _("Choose how the complaint came in.")
    received = raw.get("received_at") or now
    if isinstance(received, str):
        try:
            received = datetime.fromisoformat(received)
        except ValueError:
            errors["received_at"] = _("Give the date and time the complaint was received.")
            received = now
    if received.tzinfo is None:
        errors["received_at"] = _("Give the time with its time zone.")
        received = now
    elif received > now + timedelta(minutes=10):
        errors["received_at"] = _("The complaint cannot be received in the future.")
    data["received_at"] = received
    reporter = raw.get("reporter") or {}
    data["reporter_anonymous"] = bool(reporter.get("anonymous"))
    data["reporter_name"] = None if data["reporter_anonymous"] else _text(reporter.get("name"), 120)
    data["reporter_phone"] = None if data["reporter_anonymous"] else _text(reporter.get("phone"), 40)
    data["reporter_relationship"] = _text(reporter.get("relationship"), 80)
    if not data["reporter_anonymous"] and not data["reporter_name"]:
        errors["reporter.name"] = _("Enter the reporter's name, or mark the report anonymous.")
    concerns = list(dict.fromkeys(raw.get("concerns") or []))
    unknown = [c for c in concerns if c not in CONCERNS]
    if unknown:
        errors["concerns"] = _("Unknown concerns: %(codes)s", codes=", ".join(map(str, unknown)))
    elif not concerns:
        errors["concerns"] = _("Choose at least one concern.")
    data["concerns"] = concerns
    data["description"] = (raw.get("description") or "").strip()[:20000]
    if not data["description"]:
        errors["description"] = _("Describe what happened.")
    data["urgent"] = bool(raw.get("urgent"))
    children_raw = raw.get("children") or []
    if not children_raw:
        errors["children"] = _("Add at least one child.")
    if len(children_raw) > MAX_CHILDREN:
        errors["children"] = _("At most %(n)d children in one complaint.", n=MAX_CHILDREN)
    local_received = received.date()
    checks = [validate_child(child, f"children.{i}.", local_received, errors)
              for i, child in enumerate(children_raw[:MAX_CHILDREN])]
    if errors:
        raise ValidationFailed(errors)
    return data, checks


# ---- duplicates -----------------------------------------------------------------------------

@dataclass(frozen=True)
class DuplicateCandidate:
    """A case that may be the same child: its id and number as values (a commit expires a Case,
    and reading it again reloaded it with its five joined relations, one candidate at a time)."""
    case_id: int
    number: str
    reason: str       # code: same_nik, similar_name
    description: str  # for people


def find_duplicates(child: dict, limit: int = 5) -> list[DuplicateCandidate]:
    """Cases that are likely the same child: the same NIK anywhere, or the same normalised name
    born within a year in the same kecamatan."""
    found: dict[int, DuplicateCandidate] = {}
    if child.get("nik"):
        for case_id, number in _newest_cases(select(Case.id, Case.number).join(Child, Case.child_id == Child.id)
                                             .where(Child.nik == child["nik"]), limit):
            found[case_id] = DuplicateCandidate(case_id, number, "same_nik",
                                                _("Same NIK as case %(number)s", number=number))
    key = name_key(child.get("name") or "")
    birth = child.get("birth_date")
    area = child.get("area_code") or ""
    if key and birth and area.count(".") >= 2:
        kecamatan = ".".join(area.split(".")[:3])
        query = (select(Case.id, Case.number).join(Child, Case.child_id == Child.id)
                 .where(Child.name_key == key,
                        Child.birth_date.between(birth - timedelta(days=366), birth + timedelta(days=366)),
                        within(Child.area_code, kecamatan)))
        for case_id, number in _newest_cases(query, limit):
            found.setdefault(case_id, DuplicateCandidate(
                case_id, number, "similar_name",
                _("Similar name, born within a year, same kecamatan: case %(number)s", number=number)))
    return list(found.values())[:limit]


def _newest_cases(query, limit: int) -> list:
    """The (id, number) of the newest cases of ``query``: not Case objects, whose five joined
    relations PostgreSQL took longer to plan than to read, on every complaint."""
    return list(db.session.execute(query.order_by(Case.id.desc()).limit(limit)))


# ---- numbering ------------------------------------------------------------------------------

def allocate_case_number(district_code: str, year: int) -> str:
    """The next number of a district and year, e.g. 7306-2026-000123.

    The counter row is updated in place, so two saves at once wait for each other (row lock on
    PostgreSQL, the write lock on SQLite) instead of taking the same number.
    """
    table = CaseNumberSequence.__table__
    bump = (update(table).where(table.c.district_code == district_code, table.c.year == year)
            .values(last_value=table.c.last_value + 1).returning(table.c.last_value))
    value = db.session.execute(bump).scalar()
    if value is None:
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(table).values(district_code=district_code, year=year, last_value=0)
                           .on_conflict_do_nothing())
        value = db.session.execute(bump).scalar()
    return f"{district_code.replace('.', '')}-{year}-{value:06d}"


# ---- registering ----------------------------------------------------------------------------

def add_event(case: Case, kind: str, actor=None, *, comment: str | None = None, from_stage=None,
              to_stage=None, data: dict | None = None, at: datetime | None = None) -> CaseEvent:
    event = CaseEvent(case_id=case.id, kind=kind, actor_id=getattr(actor, "id", None), comment=comment,
                      from_stage=from_stage, to_stage=to_stage, data=data, at=at or utcnow())
    db.session.add(event)
    return event


@dataclass
class Registration:
    complaint: Complaint
    cases: list[Case]
    duplicates: dict[int, list[DuplicateCandidate]]
    # The new cases' ids and numbers taken before the commit expired them (reading case.id or
    # case.number after it reloads the case), and the numbers of the cases a child was linked to.
    case_ids: list[int] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    linked_numbers: list[str] = field(default_factory=list)


def register_complaint(raw: dict, actor, decisions: dict[int, str] | None = None,
                       now: datetime | None = None, recorded_at: datetime | None = None) -> Registration:
    """Register a complaint: one case per child, in stage 'report', numbered per district.

    ``decisions`` says, per child index, "new" (open a case even though it looks like an
    existing one) or the id of a listed duplicate to link the complaint to instead; the choice
    is recorded on the case's timeline. ``recorded_at``: when it was written down on a phone
    without a signal (offline_recorded_at), kept on the timeline beside the time it arrived.
    """
    decisions = decisions or {}
    now = now or utcnow()
    data, checks = validate_complaint(raw, now)
    duplicates = {i: find_duplicates(check.data) for i, check in enumerate(checks)}
    link_to: dict[int, DuplicateCandidate] = {}
    for i, decision in decisions.items():
        if decision and decision != "new":
            match = next((c for c in duplicates.get(i, []) if str(c.case_id) == str(decision)), None)
            if match is None:
                raise ValidationFailed({f"children.{i}.duplicate": _("Choose one of the cases listed.")})
            link_to[i] = match
    complaint = Complaint(
        channel=data["channel"], received_at=data["received_at"], reporter_anonymous=data["reporter_anonymous"],
        reporter_name=data["reporter_name"], reporter_phone=data["reporter_phone"],
        reporter_relationship=data["reporter_relationship"], description=data["description"],
        urgent=data["urgent"], registered_by_id=actor.id, registered_by_org_id=actor.organisation_id,
    )
    db.session.add(complaint)
    db.session.flush()
    year = now.astimezone(local_zone()).year
    cases = []
    for i, check in enumerate(checks):
        child_data = check.data
        if i in link_to:
            case = db.session.get(Case, link_to[i].case_id)
            db.session.add(ComplaintLink(complaint_id=complaint.id, case_id=case.id, child_name=child_data["name"],
                                         linked_by_id=actor.id))
            add_event(case, "complaint_linked", actor, comment=data["description"][:500],
                      data={"complaint_id": complaint.id})
            audit.record("complaint_linked", "case", case.id, actor=actor, after={"complaint_id": complaint.id})
            continue
        child = Child(name=child_data["name"], name_key=name_key(child_data["name"]), sex=child_data["sex"],
                      birth_date=child_data["birth_date"], birth_date_estimated=child_data["birth_date_estimated"],
                      nik=child_data["nik"], area_code=child_data["area_code"], address=child_data["address"],
                      caregiver_name=child_data["caregiver_name"],
                      caregiver_relationship=child_data["caregiver_relationship"],
                      caregiver_phone=child_data["caregiver_phone"])
        db.session.add(child)
        district = district_of(child.area_code)
        case = Case(number=allocate_case_number(district, year), complaint=complaint, child=child,
                    district_code=district, area_code=child.area_code, stage=STAGE_CODES[0], status="open",
                    urgent=data["urgent"], stage_entered_at=now,
                    due_at=triage_due(data["received_at"], data["urgent"], district))
        case.concern_rows = [CaseConcern(concern=code) for code in data["concerns"]]
        case.search_text = search.build_search_text(case)
        db.session.add(case)
        db.session.flush()
        add_event(case, "registered", actor, to_stage=case.stage,
                  data={"channel": data["channel"], "complaint_id": complaint.id,
                        **({"recorded_at": recorded_at.isoformat()} if recorded_at else {})})
        if duplicates[i]:
            add_event(case, "duplicate_check", actor, data={
                "decision": "new", "candidates": [c.number for c in duplicates[i]]})
        audit.record("case_created", "case", case.id, actor=actor,
                     after={"number": case.number, "complaint_id": complaint.id, "stage": case.stage})
        cases.append(case)
    case_ids, numbers = [case.id for case in cases], [case.number for case in cases]
    db.session.commit()
    return Registration(complaint, cases, duplicates, case_ids, numbers, [c.number for c in link_to.values()])


# ---- reading --------------------------------------------------------------------------------

@dataclass
class CaseFilters:
    stage: str | None = None
    status: str | None = None
    risk_level: str | None = None
    area_code: str | None = None
    concern: str | None = None
    assigned_to_me: bool = False
    overdue: bool = False
    q: str | None = None

    def search_only(self) -> bool:
        """A search and no other filter."""
        return bool(self.q) and not any(getattr(self, f.name) for f in fields(self) if f.name != "q")

    @classmethod
    def from_args(cls, values) -> CaseFilters:
        """The filters of the case list's query string (or of a form posting the same names)."""
        def text(name):
            return (values.get(name) or "").strip() or None

        return cls(stage=text("stage"), status=text("status"), risk_level=text("risk_level"), area_code=text("area"),
                   concern=text("concern"), assigned_to_me=bool(values.get("mine")),
                   overdue=bool(values.get("overdue")), q=text("q"))

    def problems(self) -> dict[str, str]:
        errors = {}
        if self.stage and self.stage not in STAGE_CODES:
            errors["stage"] = _("Unknown stage.")
        if self.status and self.status not in ("open", "closed"):
            errors["status"] = _("Unknown status.")
        if self.risk_level and self.risk_level not in RISK_LEVELS:
            errors["risk_level"] = _("Unknown risk level.")
        if self.concern and self.concern not in CONCERNS:
            errors["concern"] = _("Unknown concern.")
        if self.area_code and not all(part.isdigit() for part in self.area_code.split(".")):
            errors["area_code"] = _("Unknown region code.")
        return errors


def older_than(created: datetime, case_id: int) -> tuple:
    """Cases after (created, id) in newest-first order, through the (district, created_at, id) index."""
    return paging.before(Case.created_at, Case.id, created, case_id)


def filtered_cases(user, filters: CaseFilters, now: datetime | None = None, base=None):
    """The query of the cases a user may see that match the filters (no order, no page), from
    ``base`` (a select of Case by default; listing.LIST or FULL to read rows)."""
    errors = filters.problems()
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    query = scope_cases(user, base, assigned_to_me=filters.assigned_to_me)
    if filters.stage:
        query = query.where(Case.stage == filters.stage)
    if filters.status:
        query = query.where(Case.status == filters.status)
    if filters.risk_level:
        query = query.where(Case.risk_level == filters.risk_level)
    if filters.area_code:
        query = query.where(within(Case.area_code, filters.area_code))
    if filters.concern:
        query = query.where(exists().where(CaseConcern.case_id == Case.id, CaseConcern.concern == filters.concern))
    if filters.overdue:
        query = query.where(Case.overdue_at(now))
    if filters.q:
        query = search.restrict(query, filters.q, db.engine.dialect.name, district=scope_district(user))
    return query


def list_cases(user, filters: CaseFilters, *, limit: int = 25, cursor: str | None = None,
               now: datetime | None = None, shape=listing.LIST) -> tuple[list[listing.CaseRow], str | None]:
    """A page of the cases the user may see, newest first, as rows of ``shape`` (listing.LIST or
    listing.FULL), and the cursor of the next page."""
    # A search lists the newest registered first by id, the order the search index reads in;
    # otherwise newest first by the time of registration.
    problems = filters.problems()  # before the cursor: with a bad filter too, the filter is the answer
    if problems:
        raise ValidationFailed(problems)
    search_order = search.newest_first(filters.q, db.engine.dialect.name)
    order = search_order or (Case.created_at.desc(), Case.id.desc())
    # The page is picked among the cases' ids alone, then read with its joins, wherever the
    # cases come unordered: from PostgreSQL's search index, and for everyone whose scope is not
    # a district (a social worker's assigned-or-registered cases, a village worker's complaints,
    # an agency's referred cases), which are gathered from several indexes and sorted. Joined
    # first, every one of them was joined to complaint, child and the list's subqueries before
    # all but 26 were dropped: a first name's 6,000 matches in a district; a busy social
    # worker's 2,800 cases, 41 ms a page against 9 ms picked apart on the million-case database.
    district = scope_district(user)
    apart = (search_order is not None and db.engine.dialect.name == "postgresql") or district is None
    created, case_id = paging.read_cursor(cursor, datetime, int) if cursor else (None, None)
    limit = paging.page_size(limit)
    # A one-word search of a whole district (read newest first by ix_case_record_district_id) may
    # be answered from its newest cases.
    walk = apart and filters.search_only() and district is not None
    page = (search.newest_matches(scope_cases(user, select(Case.id, Case.search_text)), filters.q, limit + 1,
                                  before=case_id) if walk else None)
    if page is None:
        query = filtered_cases(user, filters, now, base=select(Case.id) if apart else shape)
        if cursor:
            query = query.where(Case.id < case_id) if search_order else query.where(*older_than(created, case_id))
        page = query.order_by(*order).limit(limit + 1)
    if apart:
        # A search's order names the index it reads (SQLite's case_fts.rowid), the case's id
        page = shape.where(Case.id.in_(page)).order_by(*((Case.id.desc(),) if search_order else order))
    return paging.page(listing.read(page), limit, lambda row: (row.created_at, row.id))


# The case page's reads of one case are selects built once, the case's id a bindparam (as in
# workflow and referrals): building a select and its cache key again on each call cost 70 us (a
# small one) to 500 us (LIST's).
_CASE_ID = bindparam("case_id")
_SIBLINGS = listing.LIST.where(Case.complaint_id == bindparam("complaint_id"), Case.id != _CASE_ID).order_by(Case.id)
_TIMELINE = {
    True: select(CaseEvent).where(CaseEvent.case_id == _CASE_ID).order_by(CaseEvent.at.desc(), CaseEvent.id.desc()),
    False: select(CaseEvent).where(CaseEvent.case_id == _CASE_ID).order_by(CaseEvent.at, CaseEvent.id),
}
_ATTACHMENTS = select(Attachment).where(Attachment.case_id == _CASE_ID).order_by(Attachment.uploaded_at.desc())


def siblings(case: Case) -> list[listing.CaseRow]:
    """The other children of the same complaint, as list rows."""
    return listing.read(_SIBLINGS, {"complaint_id": case.complaint_id, "case_id": case.id})


def timeline(case: Case, newest_first: bool = True) -> list[CaseEvent]:
    return list(db.session.scalars(_TIMELINE[newest_first], {"case_id": case.id}))


def attachments(case: Case) -> list[Attachment]:
    return list(db.session.scalars(_ATTACHMENTS, {"case_id": case.id}))


def record_view(user, case: Case, action: str = "view_case") -> None:
    audit.log_access(user, action, "case", case.id, case_id=case.id)
    db.session.commit()


# ---- editing --------------------------------------------------------------------------------

EDITABLE = {
    "child": ("name", "sex", "birth_date", "nik", "area_code", "address", "caregiver_name",
              "caregiver_relationship", "caregiver_phone"),
    "complaint": ("description", "reporter_name", "reporter_phone", "reporter_relationship", "reporter_anonymous"),
    "case": ("urgent", "concerns"),
}


def case_snapshot(case: Case) -> dict:
    child, complaint = case.child, case.complaint
    snap = {f"child.{f}": getattr(child, f) for f in EDITABLE["child"]}
    snap.update({f"complaint.{f}": getattr(complaint, f) for f in EDITABLE["complaint"]})
    snap["case.urgent"] = case.urgent
    snap["case.concerns"] = case.concerns
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in snap.items()}


def update_case(case: Case, changes: dict, version: int, actor, *, reporter_allowed: bool) -> Case:
    """Change a case's record. ``changes`` uses the keys of case_snapshot (child.name, ...).

    A stale ``version`` raises StaleVersion with what others changed since, so nothing is lost.
    """
    if version != case.version:
        raise StaleVersion(details={"current_version": case.version,
                                    "changes_since": changes_since(case, version)})
    unknown = [k for k in changes if k not in case_snapshot(case)]
    if unknown:
        raise ValidationFailed({k: _("This field cannot be changed here.") for k in unknown})
    if not reporter_allowed and any(k.startswith("complaint.reporter") for k in changes):
        raise ValidationFailed({"reporter": _("You may not change the reporter.")})
    before = case_snapshot(case)
    merged = {**before, **changes}
    raw = {
        "channel": case.complaint.channel, "received_at": case.complaint.received_at,
        "reporter": {"name": merged["complaint.reporter_name"], "phone": merged["complaint.reporter_phone"],
                     "relationship": merged["complaint.reporter_relationship"],
                     "anonymous": merged["complaint.reporter_anonymous"]},
        "concerns": merged["case.concerns"], "description": merged["complaint.description"],
        "urgent": merged["case.urgent"],
        "children": [{f: merged[f"child.{f}"] for f in EDITABLE["child"]}],
    }
    try:
        data, checks = validate_complaint(raw, now=max(utcnow(), case.complaint.received_at))
    except ValidationFailed as exc:
        raise ValidationFailed({k.replace("children.0.", "child.").replace("reporter.", "complaint.reporter_"): v
                                for k, v in exc.errors.items()}) from None
    child_data = checks[0].data
    child, complaint = case.child, case.complaint
    for f in EDITABLE["child"]:
        setattr(child, f, child_data[f])
    child.name_key = name_key(child.name)
    if "child.birth_date" in changes:
        child.birth_date_estimated = False
    for f in EDITABLE["complaint"]:
        setattr(complaint, f, data[f])
    case.urgent = data["urgent"]
    if sorted(data["concerns"]) != case.concerns:
        case.concern_rows = [CaseConcern(concern=c) for c in data["concerns"]]
    case.area_code = child.area_code
    case.search_text = search.build_search_text(case)
    after = case_snapshot(case)
    b, a = audit.changes(before, after)
    if not a:
        db.session.rollback()
        return case
    case.updated_at = utcnow()  # bumps the case's version even when only the child row changed
    db.session.flush()
    add_event(case, "updated", actor, data={
        "version": case.version,
        "changes": {k: [b.get(k), a[k]] for k in a},
        "fields": sorted(a),
    })
    audit.record("case_updated", "case", case.id, actor=actor, before=b, after=a)
    db.session.commit()
    return case


def changes_since(case: Case, version: int) -> list[dict]:
    """Edits made after the given version: who, when, which fields, from what to what."""
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.kind == "updated")
                                .order_by(CaseEvent.at, CaseEvent.id))
    out = []
    for event in events:
        if (event.data or {}).get("version", 0) > version:
            out.append({"at": event.at.isoformat(), "actor": event.actor.full_name if event.actor else None,
                        "changes": event.data.get("changes", {})})
    return out


def offline_recorded_at(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """When a phone says it recorded something offline; a phone clock running ahead is taken as
    now, not refused: the worker could not correct a clock error in the outbox."""
    if value is None:
        return None
    now = now or utcnow()
    return min(value, now).astimezone(timezone.utc)


def add_note(case: Case, text: str, actor, recorded_at: datetime | None = None) -> CaseEvent:
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": _("Write the note first.")})
    if len(text) > 10000:
        raise ValidationFailed({"text": _("A note has at most 10,000 characters.")})
    event = add_event(case, "note", actor, comment=text,
                      data={"recorded_at": recorded_at.isoformat()} if recorded_at else None)
    audit.record("note_added", "case", case.id, actor=actor)
    db.session.commit()
    return event


# ---- attachments ------------------------------------------------------------------------------

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """The file's type from its first bytes, not from its name or the browser's say-so."""
    for magic, mime, ext in _SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def attachment_root() -> Path:
    root = Path(current_app.config.get("UPLOAD_PATH") or Path(current_app.instance_path) / "attachments")
    root.mkdir(parents=True, exist_ok=True)
    return root


def add_attachment(case: Case, stream, filename: str, actor, description: str | None = None) -> Attachment:
    data = stream.read(MAX_ATTACHMENT_BYTES + 1)
    if not data:
        raise ValidationFailed({"file": _("Choose a file.")})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed({"file": _("The file is larger than 10 MB.")})
    kind = sniff_type(data[:16])
    if kind is None:
        raise ValidationFailed({"file": _("Only PDF, JPEG and PNG files can be attached.")})
    mime, ext = kind
    safe_name = "".join(c for c in Path(filename or "file").name if c.isalnum() or c in "._- ")[:150].strip()
    if not safe_name.lower().endswith(ext) and not (ext == ".jpg" and safe_name.lower().endswith(".jpeg")):
        safe_name = (safe_name or "lampiran") + ext
    key = f"{utcnow():%Y/%m}/{secrets.token_hex(16)}{ext}"
    path = attachment_root() / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    try:
        row = Attachment(case_id=case.id, filename=safe_name, content_type=mime, size=len(data),
                         sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                         description=_text(description, 200), uploaded_by_id=actor.id)
        db.session.add(row)
        db.session.flush()
        add_event(case, "attachment_added", actor, data={"attachment_id": row.id, "filename": safe_name})
        audit.record("attachment_added", "case", case.id, actor=actor,
                     after={"attachment_id": row.id, "filename": safe_name, "sha256": row.sha256})
        db.session.commit()
    except Exception:
        db.session.rollback()
        path.unlink(missing_ok=True)  # no file without its record
        raise
    return row


def open_attachment(row: Attachment, viewer) -> Path:
    """The file of an attachment, for someone the caller has checked may see it; logged."""
    audit.log_access(viewer, "download_attachment", "attachment", row.id, case_id=row.case_id)
    db.session.commit()
    return attachment_path(row)


def attachment_path(row: Attachment) -> Path:
    path = (attachment_root() / row.storage_key).resolve()
    if attachment_root().resolve() not in path.parents:
        raise ServiceError()
    return path


# ---- sensitive details --------------------------------------------------------------------------

HIV_STATUSES = ("unknown", "positive", "negative", "not_disclosed")
SENSITIVE_FIELDS = ("alleged_perpetrator", "perpetrator_relationship", "sexual_violence_details", "hiv_status")


def sensitive_of(case: Case):
    from casemgmt.cases.models import CaseSensitive

    return db.session.get(CaseSensitive, case.id)


def save_sensitive(case: Case, actor, data: dict):
    """Record the sensitive details (the assigned worker and the coordinator only). The audit row
    names the fields changed, not their values, so the audit trail does not spread what it protects."""
    from casemgmt.access import case_access
    from casemgmt.cases.models import CaseSensitive
    from casemgmt.errors import Forbidden

    if not case_access(actor, case).sensitive:
        raise Forbidden()
    if data.get("hiv_status") not in (None, "", *HIV_STATUSES):
        raise ValidationFailed({"hiv_status": _("Choose one of the listed statuses.")})
    row = sensitive_of(case) or CaseSensitive(case_id=case.id, updated_by_id=actor.id)
    changed = []
    for name in SENSITIVE_FIELDS:
        value = _text(data.get(name), CaseSensitive.__table__.c[name].type.length or 5000)
        if getattr(row, name) != value:
            changed.append(name)
            setattr(row, name, value)
    if not changed:
        return row
    row.updated_by_id = actor.id
    db.session.add(row)
    add_event(case, "sensitive_updated", actor, data={"fields": changed})
    audit.record("sensitive_updated", "case", case.id, actor=actor, after={"fields": changed})
    db.session.commit()
    return row
