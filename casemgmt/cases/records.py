"""Reading and changing case records: lists and filters, the case page's reads, edits that lose
no update, notes, sensitive details."""
from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, or_, select, union_all

from casemgmt.access import case_access, scope_cases, scope_district, sees_case_text, within
from casemgmt.audit import services as audit
from casemgmt import paging
from casemgmt.cases import households, listing, search
from casemgmt.cases.identity import name_key
from casemgmt.cases.models import (
    RISK_LEVELS,
    Case,
    CaseConcern,
    CaseEvent,
    Child,
)
from casemgmt.codes import CONCERNS
from casemgmt.dbtypes import utcnow
from casemgmt.errors import Forbidden, StaleVersion, ValidationFailed
from casemgmt.extensions import db
from casemgmt.workflow.stages import STAGE_CODES
from casemgmt.cases.intake import text_or_none, validate_complaint
from casemgmt.cases.timeline import add_event

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
    # The cases the coordinator's district transferred to another (access.scope_cases).
    transferred_out: bool = False
    # The data-quality gaps the management indicators count (reports.kpis), each a list.
    without_nik: bool = False
    estimated_birth: bool = False
    idle: bool = False

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
                   overdue=bool(values.get("overdue")), q=text("q"),
                   transferred_out=values.get("transferred") == "out", without_nik=bool(values.get("no_nik")),
                   estimated_birth=bool(values.get("estimated_birth")), idle=bool(values.get("idle")))

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


IDLE_DAYS = 90


def without_nik():
    """SQL: the case's child has no NIK recorded."""
    return or_(Child.nik.is_(None), Child.nik == "")


def idle(now: datetime):
    """SQL: nothing written on the case's timeline for IDLE_DAYS days."""
    return ~exists().where(CaseEvent.case_id == Case.id, CaseEvent.at >= now - timedelta(days=IDLE_DAYS))


def older_than(created: datetime, case_id: int) -> tuple:
    """Cases after (created, id) in newest-first order, through the (district, created_at, id) index."""
    return paging.before(Case.created_at, Case.id, created, case_id)


def filtered_cases(user, filters: CaseFilters, now: datetime | None = None, base=None, part: str | None = None):
    """The query of the cases a user may see that match the filters (no order, no page), from
    ``base`` (a select of Case by default; listing.LIST or FULL to read rows).

    A search matches each case only on what the user is shown of it (searched_part): the full
    text where they see the child's name, NIK and narrative, the number and initials elsewhere.
    ``part`` ("text" or "shown") asks for one of those two sets alone (list_cases reads each
    newest first); without it, both."""
    errors = filters.problems()
    if errors:
        raise ValidationFailed(errors)
    now = now or utcnow()
    query = scope_cases(user, base, assigned_to_me=filters.assigned_to_me, transferred_out=filters.transferred_out)
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
    if filters.without_nik:
        query = query.where(exists().where(Child.id == Case.child_id, without_nik()))
    if filters.estimated_birth:
        query = query.where(exists().where(Child.id == Case.child_id, Child.birth_date_estimated.is_(True)))
    if filters.idle:
        query = query.where(idle(now))
    if filters.q:
        query = searched(user, query, filters.q, part, transferred_out=filters.transferred_out)
    return query


def search_parts(user, query: str | None) -> bool:
    """Whether a search by ``user`` for ``query`` matches some cases of their scope on their full
    text and others on what is shown of them (a coordinator sees every case of the district in
    full; a case number is matched on the number, shown to all)."""
    return bool(query) and sees_case_text(user) is not None and not search.case_number(query)


def searched(user, query, q: str, part: str | None = None, transferred_out: bool = False):
    """``query`` (cases of the user's scope) narrowed to those matching ``q`` on what the user is
    shown of each (search_parts); ``part`` as in filtered_cases."""
    dialect = db.engine.dialect.name
    if not search_parts(user, q):
        # The index's words behind a district: the cases transferred out are another district's.
        return search.restrict(query, q, dialect, district=None if transferred_out else scope_district(user))
    full = sees_case_text(user)
    text = search.restrict(query.where(full), q, dialect)
    shown = query.where(~full, search.shown_match(q))
    if part == "text":
        return text
    if part == "shown":
        return shown
    return query.where(Case.id.in_(union_all(text.with_only_columns(Case.id), shown.with_only_columns(Case.id))))


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
    district = None if filters.transferred_out else scope_district(user)
    apart = (search_order is not None and db.engine.dialect.name == "postgresql") or district is None
    created, case_id = paging.read_cursor(cursor, datetime, int) if cursor else (None, None)
    limit = paging.page_size(limit)
    # A one-word search of a whole district (read newest first by ix_case_record_district_id) may
    # be answered from its newest cases.
    walk = apart and filters.search_only() and district is not None
    page = (search.newest_matches(scope_cases(user, select(Case.id, Case.search_text)), filters.q, limit + 1,
                                  before=case_id) if walk else None)
    if page is None and search_parts(user, filters.q):
        # The cases matched on their full text and those matched on what is shown of them, each
        # read newest first as far as a page, the page then taken from both.
        parts = []
        for part, part_order in (("text", order), ("shown", (Case.id.desc(),))):
            query = filtered_cases(user, filters, now, base=select(Case.id), part=part)
            if cursor:
                query = query.where(Case.id < case_id)
            parts.append(select(query.order_by(*part_order).limit(limit + 1).subquery().c.id))
        both = union_all(*parts).subquery()
        page = select(both.c.id).order_by(both.c.id.desc()).limit(limit + 1)
    elif page is None:
        query = filtered_cases(user, filters, now, base=select(Case.id) if apart else shape)
        if cursor:
            query = query.where(Case.id < case_id) if search_order else query.where(*older_than(created, case_id))
        page = query.order_by(*order).limit(limit + 1)
    if apart:
        # A search's order names the index it reads (SQLite's case_fts.rowid), the case's id
        page = shape.where(Case.id.in_(page)).order_by(*((Case.id.desc(),) if search_order else order))
    return paging.page(listing.read(page), limit, lambda row: (row.created_at, row.id))


# The case page's reads of one case are selects built once, the case's id a bindparam (as in
# workflow and referrals), so that each call does not build a select and its cache key again.
_SIBLINGS = listing.LIST.where(Case.complaint_id == bindparam("complaint_id"), Case.id != bindparam("case_id")
                               ).order_by(Case.id)


def siblings(case: Case) -> list[listing.CaseRow]:
    """The other children of the same complaint, as list rows."""
    return listing.read(_SIBLINGS, {"complaint_id": case.complaint_id, "case_id": case.id})


def record_view(user, case: Case, action: str = "view_case") -> None:
    audit.log_access(user, action, "case", case.id, case_id=case.id)
    db.session.flush()


# ---- editing --------------------------------------------------------------------------------

EDITABLE = {
    "child": ("name", "sex", "birth_date", "nik", "area_code", "address", "caregiver_name",
              "caregiver_relationship", "caregiver_phone", "kk_number", "relationship_to_head"),
    "complaint": ("description", "reporter_name", "reporter_phone", "reporter_relationship", "reporter_anonymous"),
    "case": ("urgent", "concerns"),
}


def case_snapshot(case: Case) -> dict:
    child, complaint = case.child, case.complaint
    snap = {f"child.{f}": getattr(child, f) for f in EDITABLE["child"] if f != "kk_number"}
    snap["child.kk_number"] = child.household.kk_number if child.household_id else None
    snap.update({f"complaint.{f}": getattr(complaint, f) for f in EDITABLE["complaint"]})
    snap["case.urgent"] = case.urgent
    snap["case.concerns"] = case.concerns
    return {k: (v.isoformat() if isinstance(v, date) else v) for k, v in snap.items()}


def update_case(case: Case, changes: dict, version: int, actor) -> Case:
    """Change a case's record. ``changes`` uses the keys of case_snapshot (child.name, ...); the
    reporter's only for those who may see the reporter.

    A stale ``version`` raises StaleVersion with what others changed since, so nothing is lost.
    """
    access = case_access(actor, case)
    if not access.edit:
        raise Forbidden()
    reporter_allowed = access.reporter
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
        if f not in ("kk_number", "relationship_to_head"):
            setattr(child, f, child_data[f])
    if ("child.kk_number" in changes or "child.relationship_to_head" in changes) and (
            child_data["kk_number"] != before["child.kk_number"]
            or child_data["relationship_to_head"] != before["child.relationship_to_head"]):
        households.place(child, child_data["kk_number"], child_data["relationship_to_head"])
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
    db.session.flush()
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


def add_note(case: Case, text: str, actor, recorded_at: datetime | None = None) -> CaseEvent:
    if not case_access(actor, case).add_notes:
        raise Forbidden()
    text = (text or "").strip()
    if not text:
        raise ValidationFailed({"text": _("Write the note first.")})
    if len(text) > 10000:
        raise ValidationFailed({"text": _("A note has at most 10,000 characters.")})
    event = add_event(case, "note", actor, comment=text,
                      data={"recorded_at": recorded_at.isoformat()} if recorded_at else None)
    audit.record("note_added", "case", case.id, actor=actor)
    db.session.flush()
    return event


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
        value = text_or_none(data.get(name), CaseSensitive.__table__.c[name].type.length or 5000)
        if getattr(row, name) != value:
            changed.append(name)
            setattr(row, name, value)
    if not changed:
        return row
    row.updated_by_id = actor.id
    db.session.add(row)
    add_event(case, "sensitive_updated", actor, data={"fields": changed})
    audit.record("sensitive_updated", "case", case.id, actor=actor, after={"fields": changed})
    db.session.flush()
    return row
