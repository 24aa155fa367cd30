"""Registering a complaint: its checks, likely duplicates, case numbers, one case per child."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from casemgmt.access import district_of, within
from casemgmt.audit import services as audit
from casemgmt.cases import households, search
from casemgmt.cases.identity import (
    KK_MESSAGES,
    NIK_MESSAGES,
    age_on,
    check_kk,
    check_nik,
    estimated_birth_date,
    name_key,
)
from casemgmt.cases.models import (
    CHANNELS,
    Case,
    CaseConcern,
    CaseNumberSequence,
    Child,
    Complaint,
    ComplaintLink,
    Household,
)
from casemgmt.codes import CONCERNS, SEXES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Area
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.i18n import local_zone
from casemgmt.workflow.deadlines import triage_due
from casemgmt.workflow.stages import STAGE_CODES
from casemgmt.cases.timeline import add_event

MAX_CHILDREN = 10
CHILD_FIELDS = ("name", "sex", "birth_date", "age_years", "nik", "area_code", "address",
                "caregiver_name", "caregiver_relationship", "caregiver_phone", "kk_number", "relationship_to_head")


# ---- validation -----------------------------------------------------------------------------

def text_or_none(value, limit: int) -> str | None:
    """A form's text trimmed and cut to ``limit``; None when nothing was written."""
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
    data["name"] = text_or_none(data["name"], 120)
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
    nik = text_or_none(data.get("nik"), 40)
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
    kk = text_or_none(data.get("kk_number"), 40)
    data["kk_number"] = None
    if kk:
        data["kk_number"], problem = check_kk(kk)
        if problem:
            errors[prefix + "kk_number"] = str(KK_MESSAGES[problem])
    try:
        data["relationship_to_head"] = households.relationship_code(data.get("relationship_to_head"))
    except ValueError:
        errors[prefix + "relationship_to_head"] = _("Choose the child's place on the family card from the list.")
        data["relationship_to_head"] = None
    for key, limit in (("address", 500), ("caregiver_name", 120), ("caregiver_relationship", 80),
                       ("caregiver_phone", 40)):
        data[key] = text_or_none(data.get(key), limit)
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
    data["reporter_name"] = None if data["reporter_anonymous"] else text_or_none(reporter.get("name"), 120)
    data["reporter_phone"] = None if data["reporter_anonymous"] else text_or_none(reporter.get("phone"), 40)
    data["reporter_relationship"] = text_or_none(reporter.get("relationship"), 80)
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
    value = next_in_sequence(CaseNumberSequence.__table__, district_code, year)
    return f"{district_code.replace('.', '')}-{year}-{value:06d}"


def next_in_sequence(table, district_code: str, year: int) -> int:
    """The next value of a (district_code, year, last_value) counter table, from 1."""
    bump = (update(table).where(table.c.district_code == district_code, table.c.year == year)
            .values(last_value=table.c.last_value + 1).returning(table.c.last_value))
    value = db.session.execute(bump).scalar()
    if value is None:
        insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
        db.session.execute(insert(table).values(district_code=district_code, year=year, last_value=0)
                           .on_conflict_do_nothing())
        value = db.session.execute(bump).scalar()
    return value


# ---- registering ----------------------------------------------------------------------------

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


def offline_recorded_at(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """When a phone says it recorded something offline; a phone clock running ahead is taken as
    now, not refused: the worker could not correct a clock error in the outbox."""
    if value is None:
        return None
    now = now or utcnow()
    return min(value, now).astimezone(timezone.utc)


def register_complaint(raw: dict, actor, decisions: dict[int, str] | None = None,
                       now: datetime | None = None, recorded_at: datetime | None = None,
                       join_households: dict[int, int] | None = None) -> Registration:
    """Register a complaint: one case per child, in stage 'report', numbered per district.

    ``decisions`` says, per child index, "new" (open a case even though it looks like an
    existing one) or the id of a listed duplicate to link the complaint to instead; the choice
    is recorded on the case's timeline. ``recorded_at``: when it was written down on a phone
    without a signal (offline_recorded_at), kept on the timeline beside the time it arrived.

    A child given a KK number joins its household (recorded when new). ``join_households`` says,
    per child index given no KK number, the id of the household offered for the child's NIK
    (households.household_offer) that the worker chose to add the child to.
    """
    decisions = decisions or {}
    join_households = join_households or {}
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
    joins: dict[int, Household] = {}
    for i, household_id in join_households.items():
        if not household_id or i >= len(checks) or checks[i].data.get("kk_number"):
            continue
        offer = households.household_offer(actor, checks[i].data)
        if offer is None or offer.reason != "same_nik" or str(offer.household_id) != str(household_id):
            raise ValidationFailed({f"children.{i}.household": _("Choose the family offered.")})
        joins[i] = db.session.get(Household, offer.household_id)
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
        if child_data["kk_number"]:
            households.place(child, child_data["kk_number"], child_data["relationship_to_head"])
        elif i in joins:
            households.place(child, joins[i].kk_number, child_data["relationship_to_head"])
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
                     after={"number": case.number, "complaint_id": complaint.id, "stage": case.stage,
                            **({"household_id": child.household_id} if child.household_id else {})})
        cases.append(case)
    case_ids, numbers = [case.id for case in cases], [case.number for case in cases]
    db.session.flush()
    return Registration(complaint, cases, duplicates, case_ids, numbers, [c.number for c in link_to.values()])
