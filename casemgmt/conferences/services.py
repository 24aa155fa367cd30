"""Conference operations: schedule, attendance, decisions with their tasks, close."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, literal_column, or_, select, type_coerce

from casemgmt.access import (
    case_accesses,
    coordinates,
    district_of,
    may_manage_conference,
    owns_task,
    scope_cases,
    scope_district,
)
from casemgmt.accounts.models import User
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case
from casemgmt.cases.timeline import add_event
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Organisation
from casemgmt.errors import Forbidden, ServiceError, ValidationFailed, check_version
from casemgmt.extensions import db
from casemgmt.notify import events as tell
from casemgmt.workflow import kept_counts
from casemgmt.workflow.deadlines import hours_for
from casemgmt.workflow.models import Approval
from casemgmt.workflow.services import decide_approval

from casemgmt.conferences.models import (
    CaseConference,
    ConferenceAttendee,
    ConferenceCase,
    ConferenceDecision,
    ConferenceOrganisation,
    Task,
)


class ConferenceLocked(ServiceError):
    status = 409
    code = "conference_closed"
    default_text = _l("The conference is closed; its record can no longer be changed.")


def _require_open(conf: CaseConference, actor) -> None:
    if may_manage_conference(actor, conf):
        return
    raise ConferenceLocked() if coordinates(actor, conf.district_code) else Forbidden()


def review_due_before(now: datetime, district: str) -> datetime:
    return now - timedelta(hours=hours_for("conference_review", "open", district))


def _reviewed_since(cutoff: datetime):
    """The conference rows of the cases discussed in a conference closed since ``cutoff``."""
    return (select(ConferenceCase.case_id).join(CaseConference, CaseConference.id == ConferenceCase.conference_id)
            .where(CaseConference.status == "closed", CaseConference.closed_at >= cutoff))


def _due_for_review(district: str, now: datetime, created=Case.created_at):
    """(cut-off, condition): past the stage of report and older than the review cut-off; the
    cases of it not discussed in a closed conference since then are stale (_stale). ``created``:
    the time of registration as the condition reads it."""
    cutoff = review_due_before(now, district)
    return cutoff, and_(Case.stage != "report", created < cutoff)


def _stale(district: str, now: datetime):
    """Open cases past the stage of report not discussed in a closed conference since the review
    cut-off (a case's last discussion is asked of its own conference rows, not of every case's)."""
    cutoff, due = _due_for_review(district, now)
    return and_(due, ~_reviewed_since(cutoff).where(ConferenceCase.case_id == Case.id).exists())


def _not_reviewed(user, now: datetime, what):
    return scope_cases(user, select(what)).where(Case.status == "open", _stale(district_of(user.area_code), now))


def not_reviewed(user, now: datetime | None = None, limit: int | None = None) -> list[Case]:
    """Open cases of the user's district not discussed in a conference for three months (the
    review list), the longest waiting first; as every list, within the cases the user may see."""
    query = _not_reviewed(user, now or utcnow(), Case).order_by(Case.created_at, Case.id)
    return list(db.session.scalars(query.limit(limit) if limit else query))


def count_not_reviewed(user, now: datetime | None = None) -> int:
    """How many cases ``not_reviewed`` lists: those due for review, counted through an index,
    less those of them discussed since (the cases of the conferences closed since). Asking each
    case for its last conference instead is slower, and far slower once SQLite's planner has
    statistics. The coordinator's home shows it."""
    created = Case.created_at
    if db.session.get_bind().dialect.name == "sqlite":
        # Counted in the (district, status, stage, urgent, created_at, id) index alone: with the
        # created_at range, SQLite's planner would take (district, created_at, id) and read every
        # case of the district in that range. "|| ''" is no index's column.
        created = type_coerce(Case.created_at.concat(literal_column("''")), Case.created_at.type)
    now = now or utcnow()
    cutoff, due = _due_for_review(district_of(user.area_code), now, created)
    counted = scope_cases(user, select(func.count(Case.id))).where(Case.status == "open", due)
    discussed = counted.where(Case.id.in_(_reviewed_since(cutoff)))

    def count() -> int:
        return (db.session.scalar(counted) or 0) - (db.session.scalar(discussed) or 0)

    district = scope_district(user)
    # A whole district's (the coordinator's scope): kept a minute at most (workflow.kept_counts).
    return kept_counts.kept(district, "not_reviewed", now, count) if district else count()


@dataclass
class CaseSuggestion:
    case: Case
    reasons: list[str]


SUGGESTIONS = 50


def suggest_cases(user, now: datetime | None = None, limit: int = SUGGESTIONS) -> list[CaseSuggestion]:
    """Cases of the coordinator's district that need a conference: high risk, overdue, waiting
    for an approval, or not reviewed in three months. Most pressing first (high risk, overdue,
    waiting, then the longest waiting), at most ``limit``: a district holds thousands of open
    cases and a conference discusses a few.

    Read a group at a time in that order, each group's oldest first, until ``limit`` are found:
    high risk and overdue, high risk on time, overdue, then on time and not reviewed; in each
    group the cases waiting for an approval (few: read at once) before the others. Sorting the
    whole district by its flags would read every open case of it, tens of thousands in a large
    district, to show ``limit``."""

    now = now or utcnow()
    stale = _stale(district_of(user.area_code), now)
    open_cases = scope_cases(user).where(Case.status == "open")
    oldest = (Case.created_at, Case.id)
    waiting = list(db.session.scalars(open_cases.where(
        Case.id.in_(select(Approval.case_id).where(Approval.status == "pending"))).order_by(*oldest)))
    high = Case.risk_level == "high"
    not_high = or_(Case.risk_level.is_(None), Case.risk_level != "high")
    on_time = or_(Case.due_at.is_(None), Case.due_at >= now)
    groups = (((True, True), (high, Case.due_at < now)), ((True, False), (high, on_time)),
              ((False, True), (not_high, Case.due_at < now)), ((False, False), (not_high, on_time, stale)))
    picked: list[tuple[Case, bool]] = []
    for (is_high, is_overdue), conditions in groups:
        picked += [(case, True) for case in waiting
                   if (case.risk_level == "high") == is_high and case.overdue(now) == is_overdue][:limit - len(picked)]
        if len(picked) < limit:
            # Not a case listed already: each group is read on its own, and a case changed between
            # two reads (its deadline moved) would otherwise come back in a later group.
            listed = {case.id for case in waiting} | {case.id for case, _ in picked}
            others = open_cases.where(*conditions, Case.id.not_in(sorted(listed)))
            picked += [(case, False) for case in db.session.scalars(
                others.order_by(*oldest).limit(limit - len(picked)))]
        if len(picked) >= limit:
            break
    ids = [case.id for case, _ in picked]
    not_reviewed = set(db.session.scalars(select(Case.id).where(Case.id.in_(ids), stale))) if ids else set()
    names = (_("high risk"), _("overdue"), _("waiting for approval"), _("not reviewed for three months"))
    return [CaseSuggestion(case, [name for name, flag in zip(names, (
        case.risk_level == "high", case.overdue(now), is_waiting, case.id in not_reviewed)) if flag])
        for case, is_waiting in picked]


def schedule(actor, *, title: str, scheduled_at: datetime, area_code: str, location: str,
             case_ids: list[int], organisation_ids: list[int]) -> CaseConference:
    district = district_of(area_code)
    if not coordinates(actor, district):
        raise Forbidden(_("Only the PKSAI coordinator of the district schedules its conferences."))
    errors = {}
    if not (title or "").strip():
        errors["title"] = _("Give the conference a title.")
    if not isinstance(scheduled_at, datetime) or scheduled_at.tzinfo is None:
        errors["scheduled_at"] = _("Give the date and time.")
    cases = list(db.session.scalars(select(Case).where(Case.id.in_(case_ids)))) if case_ids else []
    found = {c.id for c in cases}
    foreign = [str(i) for i in case_ids if i not in found] + [c.number for c in cases if c.district_code != district]
    if foreign:
        errors["case_ids"] = _("Only cases of the district can be added: %(cases)s", cases=", ".join(foreign))
    orgs = list(db.session.scalars(select(Organisation).where(Organisation.id.in_(organisation_ids)))) \
        if organisation_ids else []
    if len(orgs) != len(set(organisation_ids)):
        errors["organisation_ids"] = _("Unknown organisation.")
    if errors:
        raise ValidationFailed(errors)
    conf = CaseConference(title=title.strip(), scheduled_at=scheduled_at, district_code=district,
                          location=(location or "").strip(), status="scheduled", created_by_id=actor.id)
    conf.agenda = [ConferenceCase(case_id=cid, position=i) for i, cid in enumerate(dict.fromkeys(case_ids))]
    conf.invited = [ConferenceOrganisation(organisation_id=o.id) for o in orgs]
    db.session.add(conf)
    db.session.flush()
    for case in cases:
        add_event(case, "conference_scheduled", actor, data={"conference_id": conf.id, "title": conf.title,
                                                             "scheduled_at": scheduled_at.isoformat()})
    audit.record("conference_scheduled", "conference", conf.id, actor=actor,
                 after={"title": conf.title, "cases": list(dict.fromkeys(case_ids)),
                        "organisations": [o.id for o in orgs]})
    tell.conference_invited(conf, [o.id for o in orgs], actor, utcnow())
    db.session.flush()
    return conf


def record_attendance(conf: CaseConference, actor, attendees: list[dict]) -> CaseConference:
    """Replace the attendance list (name, organisation, sex)."""
    _require_open(conf, actor)
    errors = {}
    rows = []
    for i, person in enumerate(attendees):
        name = (person.get("name") or "").strip()
        if not name:
            continue
        if person.get("sex") not in ("F", "M"):
            errors[f"attendees.{i}.sex"] = _("Choose female or male.")
        org_id = person.get("organisation_id")
        if org_id is not None and db.session.get(Organisation, org_id) is None:
            errors[f"attendees.{i}.organisation_id"] = _("Unknown organisation.")
        rows.append(ConferenceAttendee(name=name[:120], organisation_id=org_id, sex=person.get("sex")))
    if errors:
        raise ValidationFailed(errors)
    conf.attendees = rows
    db.session.flush()
    audit.record("conference_attendance", "conference", conf.id, actor=actor,
                 after={"attendees": len(rows), "female": sum(r.sex == "F" for r in rows),
                        "male": sum(r.sex == "M" for r in rows)})
    db.session.flush()
    return conf


def totals_by_sex(conf: CaseConference) -> dict[str, int]:
    female = sum(1 for a in conf.attendees if a.sex == "F")
    male = sum(1 for a in conf.attendees if a.sex == "M")
    return {"F": female, "M": male, "total": female + male}


def add_decision(conf: CaseConference, actor, *, case_id: int, summary: str, actions: list[dict],
                 approve_approval_id: int | None = None, now: datetime | None = None) -> ConferenceDecision:
    """Record the discussion and decisions on one case; each action becomes a task of its owner
    and a timeline entry. A decision may also approve the case's pending approval."""

    _require_open(conf, actor)
    now = now or utcnow()
    errors = {}
    if not holds_case(conf, case_id):
        errors["case_id"] = _("This case is not on the conference's agenda.")
    if not (summary or "").strip():
        errors["summary"] = _("Write what was discussed and decided.")
    clean = []
    for i, action in enumerate(actions or []):
        description = (action.get("description") or "").strip()
        if not description:
            continue
        org = db.session.get(Organisation, action.get("owner_organisation_id") or 0)
        if org is None:
            errors[f"actions.{i}.owner_organisation_id"] = _("Choose the organisation that owns the action.")
        due = action.get("due_date")
        if isinstance(due, str):
            try:
                due = date.fromisoformat(due)
            except ValueError:
                due = None
        if not isinstance(due, date):
            errors[f"actions.{i}.due_date"] = _("Give a due date.")
        owner_user = action.get("owner_user_id")
        if owner_user is not None:

            person = db.session.get(User, owner_user)
            if person is None or (org is not None and person.organisation_id != org.id):
                errors[f"actions.{i}.owner_user_id"] = _("The person must work for the owning organisation.")
        clean.append((description, org, due, owner_user))
    approval = None
    if approve_approval_id is not None:
        approval = db.session.get(Approval, approve_approval_id)
        if approval is None or approval.case_id != case_id or approval.status != "pending":
            errors["approve_approval_id"] = _("There is no pending request on this case to approve.")
    if errors:
        raise ValidationFailed(errors)
    case = db.session.get(Case, case_id)
    decision = ConferenceDecision(conference_id=conf.id, case_id=case_id, summary=summary.strip(),
                                  approval_id=approval.id if approval else None, created_by_id=actor.id,
                                  created_at=now)
    db.session.add(decision)
    db.session.flush()
    for description, org, due, owner_user in clean:
        task = Task(conference_id=conf.id, decision_id=decision.id, case_id=case_id, description=description,
                    owner_organisation_id=org.id, owner_user_id=owner_user, due_date=due, status="open",
                    created_at=now)
        db.session.add(task)
        db.session.flush()
        add_event(case, "conference_action", actor, comment=description,
                  data={"conference_id": conf.id, "task_id": task.id, "owner": org.name, "due_date": due.isoformat()})
        tell.task_assigned(task, case, actor, now)
    add_event(case, "conference_decision", actor, comment=decision.summary,
              data={"conference_id": conf.id, "decision_id": decision.id, "title": conf.title})
    audit.record("conference_decision", "conference", conf.id, actor=actor,
                 after={"case_id": case_id, "decision_id": decision.id, "actions": len(clean)})
    db.session.flush()
    if approval is not None:
        # Binding like any approval: the case moves (or the guard refuses) in this transaction.
        decide_approval(approval, actor, "approve", _("Decided in the case conference: %(title)s", title=conf.title),
                        now=now, conference_id=conf.id)
    else:
        db.session.flush()
    return decision


def close(conf: CaseConference, actor, version: int | None = None, now: datetime | None = None) -> CaseConference:
    _require_open(conf, actor)
    check_version(conf, version)
    now = now or utcnow()
    conf.status = "closed"
    conf.closed_at, conf.closed_by_id = now, actor.id
    for row in conf.agenda:
        case = db.session.get(Case, row.case_id)
        add_event(case, "conference_closed", actor, data={"conference_id": conf.id, "title": conf.title})
    audit.record("conference_closed", "conference", conf.id, actor=actor, after={"status": "closed"})
    db.session.flush()
    return conf


def people_of(orgs) -> list:
    """The active users of these organisations, by name: who a conference's actions may be given to."""

    ids = [o.id for o in orgs]
    if not ids:
        return []
    return list(db.session.scalars(select(User).where(User.organisation_id.in_(ids), User.active.is_(True))
                                   .order_by(User.full_name)))


def decisions(conf: CaseConference) -> list[ConferenceDecision]:
    return list(db.session.scalars(select(ConferenceDecision).where(ConferenceDecision.conference_id == conf.id)
                                   .order_by(ConferenceDecision.id)))


def conferences_for(user) -> list[CaseConference]:
    if user.role == "coordinator":
        query = select(CaseConference).where(CaseConference.district_code == district_of(user.area_code))
    elif user.organisation_id:
        query = select(CaseConference).join(ConferenceOrganisation).where(
            ConferenceOrganisation.organisation_id == user.organisation_id)
    else:
        return []
    return list(db.session.scalars(query.order_by(CaseConference.scheduled_at.desc()).limit(200)))


def holds_case(conf: CaseConference, case_id: int) -> bool:
    """Whether the case is on the conference's agenda."""
    return any(row.case_id == case_id for row in conf.agenda)


def on_agenda(conf: CaseConference, case_id: int) -> Case | None:
    """The case if it is on the conference's agenda, else None."""
    return db.session.get(Case, case_id) if holds_case(conf, case_id) else None


def agenda_cases(conf: CaseConference) -> list[Case]:
    """The cases on the agenda, in its order, read in one query."""
    ids = [row.case_id for row in conf.agenda]
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_(ids)))} if ids else {}
    return [cases[i] for i in ids if i in cases]


def identities_visible(user, cases) -> set[int]:
    """The ids of the cases whose child the user may see named, for a whole agenda at once."""
    return {case_id for case_id, access in case_accesses(user, cases).items() if access.identity}


def complete_task(task: Task, actor) -> Task:
    if not owns_task(actor, task):
        raise Forbidden()
    if task.status != "open":
        raise ServiceError(_("This task is already done."))
    task.status, task.done_at = "done", utcnow()
    if task.case_id:
        case = db.session.get(Case, task.case_id)
        add_event(case, "conference_action_done", actor, comment=task.description,
                  data={"task_id": task.id, "conference_id": task.conference_id})
    audit.record("task_done", "task", task.id, actor=actor)
    db.session.flush()
    return task
