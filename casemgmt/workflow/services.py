"""The engine: applying transitions, binding approvals, recording what each stage produces,
and the deadline sweep. Every operation is one transaction with its timeline and audit rows."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from casemgmt.access import coordinates, may_reassign, may_take, works_on_case
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case, CaseEvent
from casemgmt.cases.timeline import add_event
from casemgmt.codes import SERVICES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Organisation
from casemgmt.errors import Forbidden, ServiceError, ValidationFailed, check_number, check_version
from casemgmt.extensions import db
from casemgmt.notify import events as tell
from casemgmt.workflow import definition
from casemgmt.workflow.deadlines import refresh_due
from casemgmt.workflow.effects import EFFECTS
from casemgmt.workflow.forms import data_keys
from casemgmt.workflow.guards import GUARDS, MISSING_LABELS, assignable_worker
from casemgmt.workflow.notices import tell_overdue
from casemgmt.workflow.models import (
    ACTION_STATUSES,
    PROGRESS,
    Approval,
    Assessment,
    MonitoringVisit,
    PlanAction,
    PlanGoal,
)


class WrongStage(ServiceError):
    status = 409
    code = "wrong_stage"
    default_text = _l("The case is not in a stage where this can be done.")


class ApprovalPending(ServiceError):
    status = 409
    code = "approval_pending"
    default_text = _l("A request on this case is already waiting for the coordinator's approval.")


class GuardFailed(ServiceError):
    status = 422
    retry = True
    code = "guard_failed"

    def __init__(self, missing: list[str]):
        self.missing = missing
        labels = ", ".join(str(MISSING_LABELS.get(m, m)) for m in missing)
        super().__init__(_("Still missing: %(missing)s.", missing=labels), {"missing": missing})


class Locked(ServiceError):
    status = 409
    code = "record_locked"
    default_text = _l("This can no longer be changed at the case's current stage.")


# ---- who may take a transition -------------------------------------------------------------------

# Built once, as the case page's other reads (cases.timeline._TIMELINE).
_PENDING = select(Approval).where(Approval.case_id == bindparam("case_id"), Approval.status == "pending")
_ASSESSMENT = select(Assessment).where(Assessment.case_id == bindparam("case_id"))
_GOALS = select(PlanGoal).where(PlanGoal.case_id == bindparam("case_id")).order_by(PlanGoal.position)
_PLAN_SAVES = (select(func.count()).select_from(CaseEvent)
               .where(CaseEvent.case_id == bindparam("case_id"), CaseEvent.kind == "plan_saved"))
_VISITS = (select(MonitoringVisit).where(MonitoringVisit.case_id == bindparam("case_id"))
           .order_by(MonitoringVisit.visited_on.desc(), MonitoringVisit.id.desc()))


def pending_approval(case: Case) -> Approval | None:
    return db.session.scalar(_PENDING, {"case_id": case.id})


def pending_approvals(cases) -> dict[int, Approval]:
    """pending_approval of several cases (a conference's agenda) in one query, by case id."""
    ids = [case.id for case in cases]
    if not ids:
        return {}
    return {a.case_id: a for a in db.session.scalars(select(Approval).where(Approval.case_id.in_(ids),
                                                                           Approval.status == "pending"))}


@dataclass
class Option:
    """A transition as one user sees it on one case now."""

    transition: definition.Transition
    allowed: bool
    missing: list[str]


_UNREAD = object()  # an argument not given (None is an answer: no approval pending)


def options(case: Case, actor, data: dict | None = None, pending=_UNREAD) -> list[Option]:
    """Every transition defined from the case's stage, whether this user may take it now, and
    what is missing first (guards that depend on the form's data are checked with ``data``).
    ``pending``: the case's pending approval, when the caller has read it already."""
    out = []
    waiting = pending_approval(case) if pending is _UNREAD else pending
    for transition in definition.available_from(case.stage):
        missing = GUARDS[transition.guard](case, data or {})
        may = may_take(actor, transition, case) and waiting is None
        out.append(Option(transition, may, missing))
    return out


# ---- applying ---------------------------------------------------------------------------------------

@dataclass
class Outcome:
    case: Case
    moved: bool
    approval: Approval | None = None


def _check(case: Case, name: str, actor, data: dict, version: int | None) -> definition.Transition:
    transition = definition.BY_NAME.get(name)
    if transition is None:
        raise ValidationFailed({"name": _("Unknown transition.")})
    if not may_take(actor, transition, case):
        raise Forbidden()
    # The stage first: a step the case has left is refused as such, not as a conflict that
    # sending again would not mend.
    if case.stage not in transition.from_stages:
        raise WrongStage()
    check_version(case, version)
    missing = GUARDS[transition.guard](case, data)
    if missing:
        raise GuardFailed(missing)
    return transition


def _clean_data(transition: definition.Transition, data: dict) -> dict:
    """What an approval keeps of the step's data: the fields of its form, filled."""
    keep = data_keys(transition)
    return {k: v for k, v in data.items() if k in keep and v not in (None, "")}


def apply_transition(case: Case, name: str, actor, data: dict | None = None, version: int | None = None,
                     now: datetime | None = None) -> Outcome:
    """Take a transition: check permission, stage, version and guard; then, in one transaction,
    move the case (or, when the step needs approval, file a pending approval and stay), write
    the timeline and audit rows and recompute the due date."""
    data = dict(data or {})
    now = now or utcnow()
    transition = _check(case, name, actor, data, version)
    if transition.needs_approval:
        if pending_approval(case) is not None:
            raise ApprovalPending()
        approval = Approval(case_id=case.id, transition=name, data=_clean_data(transition, data),
                            comment=(data.get("comment") or None), requested_by_id=actor.id, requested_at=now)
        db.session.add(approval)
        db.session.flush()
        add_event(case, "approval_requested", actor, comment=approval.comment,
                  data={"transition": name, "approval_id": approval.id}, at=now)
        case.updated_at = now  # a request changes what others may do: the version moves on
        audit.record("approval_requested", "case", case.id, actor=actor,
                     after={"transition": name, "approval_id": approval.id})
        tell.approval_requested(approval, case, actor, now)
        db.session.flush()
        return Outcome(case, moved=False, approval=approval)
    _move(case, transition, actor, data, now)
    db.session.flush()
    return Outcome(case, moved=True)


def _move(case: Case, transition: definition.Transition, actor, data: dict, now: datetime,
          approval: Approval | None = None) -> None:
    before = {"stage": case.stage, "status": case.status, "risk_level": case.risk_level,
              "assigned_worker_id": case.assigned_worker_id}
    from_stage = case.stage
    for effect in transition.effects:
        EFFECTS[effect](case, data, now)
    case.stage = transition.to_stage
    case.stage_entered_at = now
    case.overdue_notified_at = None  # a new stage: a new deadline, even at the same time
    # compute_due reads the plan's actions, visits and the district's clocks, none of which a
    # move changes: the case is written once, at commit, not once here and again for due_at.
    with db.session.no_autoflush:
        refresh_due(case, now)
    case.updated_at = now
    event_data = {"transition": transition.name}
    for key in ("reason", "risk_level", "assigned_worker_id"):
        if data.get(key) is not None:
            event_data[key] = data[key]
    if approval is not None:
        event_data["approval_id"] = approval.id
        event_data["approved_by"] = approval.decided_by_id
    add_event(case, "transition", actor, from_stage=from_stage, to_stage=case.stage,
              comment=(data.get("comment") or data.get("summary") or None), data=event_data, at=now)
    after = {"stage": case.stage, "status": case.status, "risk_level": case.risk_level,
             "assigned_worker_id": case.assigned_worker_id}
    audit.record(f"transition:{transition.name}", "case", case.id, actor=actor, before=before, after=after)
    tell.after_transition(case, transition.name, "close" in transition.effects, actor, now)


def decide_approval(approval: Approval, actor, decision: str, comment: str | None = None,
                    now: datetime | None = None, conference_id: int | None = None) -> Approval:
    """A coordinator of the case's district approves (the case moves) or rejects (it stays, and
    the comment goes back to the worker). Nobody decides on their own request."""
    now = now or utcnow()
    case = db.session.get(Case, approval.case_id)
    if not coordinates(actor, case.district_code):
        raise Forbidden()
    if approval.requested_by_id == actor.id:
        raise Forbidden(_("You cannot decide on your own request."))
    if approval.status != "pending":
        raise Locked(_("This request has already been decided."))
    if decision not in ("approve", "reject"):
        raise ValidationFailed({"decision": _("Choose approve or reject.")})
    if decision == "reject" and not (comment or "").strip():
        raise ValidationFailed({"comment": _("Say why, so the social worker knows what to change.")})
    transition = definition.BY_NAME[approval.transition]
    if decision == "approve":
        if case.stage not in transition.from_stages:
            raise WrongStage()
        missing = GUARDS[transition.guard](case, approval.data)
        if missing:  # something changed since the request: it no longer holds
            raise GuardFailed(missing)
    approval.decided_by_id = actor.id
    approval.decided_at = now
    approval.decision_comment = (comment or "").strip() or None
    approval.conference_id = conference_id
    if decision == "approve":
        approval.status = "approved"
        requester = approval.requested_by
        _move(case, transition, requester, approval.data, now, approval)
        add_event(case, "approval_approved", actor, comment=approval.decision_comment,
                  data={"transition": transition.name, "approval_id": approval.id, "conference_id": conference_id})
    else:
        approval.status = "rejected"
        case.updated_at = now
        add_event(case, "approval_rejected", actor, comment=approval.decision_comment,
                  data={"transition": transition.name, "approval_id": approval.id, "conference_id": conference_id})
    audit.record(f"approval_{approval.status}", "case", case.id, actor=actor,
                 after={"approval_id": approval.id, "transition": transition.name})
    tell.approval_decided(approval, case, actor, now)
    db.session.flush()
    return approval


def reassign(case: Case, actor, worker_id, reason: str, version: int | None, now: datetime | None = None) -> Case:
    """The district's coordinator hands an open case to another of its social workers (the one
    holding it is on leave, has moved, or has too many). Access follows the assignment: the new
    worker sees the case at once, the previous one no longer does; if the case is overdue and the
    sweep has told its worker, the new one is told too. A request waiting for approval is decided
    first (ApprovalPending). The timeline and audit say who, when and why."""
    now = now or utcnow()
    if not coordinates(actor, case.district_code):
        raise Forbidden(_("Only the PKSAI coordinator of the district hands its cases to another worker."))
    pending = pending_approval(case)
    if not may_reassign(actor, case, pending):
        if pending is not None:
            raise ApprovalPending()
        raise WrongStage()
    check_version(case, version)  # after: a hand-over no longer offered is refused as such (as _check)
    errors = {}
    worker = assignable_worker(worker_id, case.district_code)
    if worker is None:
        errors["assigned_worker_id"] = _("Choose an active social worker of the district.")
    elif worker.id == case.assigned_worker_id:
        errors["assigned_worker_id"] = _("This social worker already holds the case.")
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the case changes hands.")
    elif len(reason) > 2000:
        errors["reason"] = _("At most 2,000 characters.")
    if errors:
        raise ValidationFailed(errors)
    before = case.assigned_worker_id
    case.assigned_worker_id = worker.id
    case.updated_at = now
    add_event(case, "reassigned", actor, comment=reason, at=now,
              data={"from_worker_id": before, "to_worker_id": worker.id, "to_worker": worker.full_name})
    tell.case_assigned(case, worker.id, actor, now)
    if case.overdue_notified_at is not None and case.overdue(now):  # the sweep told of this deadline
        tell_overdue(case, {worker.id}, now)
    audit.record("case_reassigned", "case", case.id, actor=actor, before={"assigned_worker_id": before},
                 after={"assigned_worker_id": worker.id})
    db.session.flush()
    return case


# ---- what each stage records -----------------------------------------------------------------------

def _require(case: Case, actor, stages: tuple[str, ...]) -> None:
    if not works_on_case(actor, case):
        raise Forbidden()
    if case.stage not in stages:
        raise Locked()


def save_assessment(case: Case, actor, risk_level: str | None, needs: list[str], summary: str,
                    version: int | None = None) -> Assessment:
    """Save the assessment (while the case is in assessment). ``version``: the assessment's as the
    form or client read it (0: none saved yet); a save made from an older one is refused
    (StaleVersion), not written over the other person's."""
    _require(case, actor, ("assessment",))
    errors = {}
    if risk_level not in (None, "", "high", "medium", "low"):
        errors["risk_level"] = _("Choose high, medium or low.")
    unknown = [n for n in needs if n not in SERVICES]
    if unknown:
        errors["needs"] = _("Unknown services: %(codes)s", codes=", ".join(map(str, unknown)))
    if len(summary or "") > 20000:
        errors["summary"] = _("At most 20,000 characters.")
    if errors:
        raise ValidationFailed(errors)
    assessment = get_assessment(case)
    check_version(assessment, version)
    if assessment is None:
        assessment = Assessment(case_id=case.id, updated_by_id=actor.id)
        db.session.add(assessment)
    assessment.risk_level = risk_level or None
    assessment.needs = list(dict.fromkeys(needs))
    assessment.summary = (summary or "").strip()
    assessment.updated_by_id = actor.id
    case.updated_at = utcnow()
    add_event(case, "assessment_saved", actor, data={"risk_level": assessment.risk_level, "needs": assessment.needs})
    audit.record("assessment_saved", "case", case.id, actor=actor,
                 after={"risk_level": assessment.risk_level, "needs": assessment.needs})
    db.session.flush()
    return assessment


def get_assessment(case: Case) -> Assessment | None:
    return db.session.scalar(_ASSESSMENT, {"case_id": case.id})


def plan_goals(case: Case) -> list[PlanGoal]:
    return list(db.session.scalars(_GOALS, {"case_id": case.id}))


def plan_version(case: Case) -> int:
    """The plan's own version: how many times it was saved (each save records one plan_saved
    event). Not the case's, which any change to the case record moves on (an edit, a transition,
    the overdue sweep's note): a plan page open meanwhile would have been refused its save."""
    return db.session.scalar(_PLAN_SAVES, {"case_id": case.id})


def save_plan(case: Case, actor, goals: list[dict], version: int | None = None) -> list[PlanGoal]:
    """Replace the plan's goals and actions (while planning). Each goal: description, actions:
    [{description, service, organisation_id, due_date}]. Done or cancelled actions are history
    and stay; open ones are replaced. ``version``: the plan's (plan_version) when it was read; a
    plan saved from an older one is refused (StaleVersion), not written over what was saved since."""
    _require(case, actor, ("intervention_plan",))
    check_number(plan_version(case), version)
    errors = {}
    for gi, goal in enumerate(goals):
        if not (goal.get("description") or "").strip():
            errors[f"goals.{gi}.description"] = _("Describe the goal.")
        for ai, action in enumerate(goal.get("actions") or []):
            prefix = f"goals.{gi}.actions.{ai}."
            if action.get("service") and action["service"] not in SERVICES:
                errors[prefix + "service"] = _("Unknown service.")
            org_id = action.get("organisation_id")
            if org_id is not None and (not isinstance(org_id, int) or db.session.get(Organisation, org_id) is None):
                errors[prefix + "organisation_id"] = _("No such organisation.")
            due = action.get("due_date")
            if due is not None and not isinstance(due, date):
                errors[prefix + "due_date"] = _("Give a date.")
    if errors:
        raise ValidationFailed(errors)
    for goal in plan_goals(case):
        kept = [a for a in goal.actions if a.status != "open"]
        if kept:
            goal.actions = kept
        else:
            db.session.delete(goal)
    db.session.flush()
    saved = []
    for gi, goal in enumerate(goals):
        row = PlanGoal(case_id=case.id, position=gi, description=goal["description"].strip())
        for ai, action in enumerate(goal.get("actions") or []):
            row.actions.append(PlanAction(case_id=case.id, position=ai,
                                          description=(action.get("description") or "").strip(),
                                          service=action.get("service") or None,
                                          organisation_id=action.get("organisation_id"),
                                          due_date=action.get("due_date"), status="open", updated_by_id=actor.id))
        db.session.add(row)
        saved.append(row)
    case.updated_at = utcnow()
    db.session.flush()
    add_event(case, "plan_saved", actor, data={"goals": len(saved), "actions": sum(len(g.actions) for g in saved)})
    audit.record("plan_saved", "case", case.id, actor=actor,
                 after={"goals": [{"description": g.description, "actions": [
                     {"id": a.id, "service": a.service, "organisation_id": a.organisation_id,
                      "due_date": a.due_date.isoformat() if a.due_date else None} for a in g.actions]} for g in saved]})
    db.session.flush()
    return saved


def update_action(case: Case, action: PlanAction, actor, status: str, note: str | None = None,
                  done_on: date | None = None, now: datetime | None = None) -> PlanAction:
    """Mark a plan action done or cancelled (with a note), while the plan is carried out."""
    _require(case, actor, ("intervention", "monitoring"))
    if action.case_id != case.id:
        raise ValidationFailed({"action": _("This action belongs to another case.")})
    if status not in ACTION_STATUSES or status == "open":
        raise ValidationFailed({"status": _("Choose done or cancelled.")})
    if action.status != "open":
        from casemgmt.workflow.labels import ACTION_STATUS_LABELS

        raise Locked(_("This action is already %(status)s.", status=str(ACTION_STATUS_LABELS[action.status]).lower()))
    if status == "cancelled" and not (note or "").strip():
        raise ValidationFailed({"note": _("Say why the action is cancelled.")})
    now = now or utcnow()
    if done_on and done_on > now.date():
        raise ValidationFailed({"done_on": _("The date cannot be in the future.")})
    action.status = status
    action.note = (note or "").strip() or None
    action.done_on = (done_on or now.date()) if status == "done" else None
    action.updated_by_id = actor.id
    db.session.flush()
    refresh_due(case, now)
    case.updated_at = now
    add_event(case, f"action_{status}", actor, comment=action.note,
              data={"action_id": action.id, "description": action.description, "service": action.service})
    audit.record(f"action_{status}", "case", case.id, actor=actor, after={"action_id": action.id, "status": status})
    db.session.flush()
    return action


def record_visit(case: Case, actor, visited_on: date, progress: str, notes: str,
                 now: datetime | None = None, recorded_at: datetime | None = None) -> MonitoringVisit:
    _require(case, actor, ("monitoring",))
    now = now or utcnow()
    errors = {}
    if not isinstance(visited_on, date):
        errors["visited_on"] = _("Give the date of the visit.")
    elif visited_on > now.date():
        errors["visited_on"] = _("The date cannot be in the future.")
    if progress not in PROGRESS:
        errors["progress"] = _("Choose improved, the same or worse.")
    if errors:
        raise ValidationFailed(errors)
    visit = MonitoringVisit(case_id=case.id, visited_on=visited_on, progress=progress, notes=(notes or "").strip(),
                            recorded_by_id=actor.id)
    db.session.add(visit)
    db.session.flush()
    refresh_due(case, now)
    case.updated_at = now
    add_event(case, "monitoring_visit", actor, comment=visit.notes or None,
              data={"visited_on": visited_on.isoformat(), "progress": progress,
                    **({"recorded_at": recorded_at.isoformat()} if recorded_at else {})})
    audit.record("monitoring_visit", "case", case.id, actor=actor,
                 after={"visit_id": visit.id, "visited_on": visited_on.isoformat(), "progress": progress})
    db.session.flush()
    return visit


def visits(case: Case) -> list[MonitoringVisit]:
    return list(db.session.scalars(_VISITS, {"case_id": case.id}))
