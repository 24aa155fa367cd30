"""What must be recorded before each transition. A guard answers the list of what is missing
(codes, with labels for people in MISSING_LABELS); an empty list lets the case move on."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from casemgmt.access import district_of
from casemgmt.codes import SERVICES
from casemgmt.extensions import db
from casemgmt.workflow.definition import DISMISS_REASONS, TERMINATION_FROM, TERMINATION_REASONS

RISK_LEVELS = ("high", "medium", "low")

MISSING_LABELS = {
    "risk_level": _l("a risk level (high, medium or low)"),
    "assigned_worker_id": _l("a social worker of the district to assign"),
    "reason": _l("a reason"),
    "comment": _l("a comment saying why"),
    "summary": _l("a summary"),
    "assessment": _l("the assessment, saved"),
    "assessment.risk_level": _l("the assessment's risk level"),
    "assessment.needs": _l("at least one need in the assessment"),
    "assessment.summary": _l("the assessment's summary"),
    "plan.goal": _l("at least one goal in the plan"),
    "plan.goal_actions": _l("at least one action for every goal"),
    "plan.action_service": _l("a service for every action"),
    "plan.action_organisation": _l("a responsible organisation for every action"),
    "plan.action_due_date": _l("a due date for every action"),
    "plan.actions_settled": _l("every plan action done or cancelled"),
    "monitoring_visit": _l("at least one monitoring visit"),
}


def _assessment(case):
    from casemgmt.workflow.services import get_assessment  # services reads GUARDS from here

    return get_assessment(case)


def triage_accept(case, data: dict) -> list[str]:
    missing = []
    if data.get("risk_level") not in RISK_LEVELS:
        missing.append("risk_level")
    if assignable_worker(data.get("assigned_worker_id"), case.district_code) is None:
        missing.append("assigned_worker_id")
    return missing


def assignable_worker(worker_id, district_code: str):
    """The user of ``worker_id`` if a case of the district may be given to them: an active social
    worker of that district. None otherwise (unknown id, other role, disabled, elsewhere)."""
    from casemgmt.accounts.models import User
    from casemgmt.forms import id_or_none

    worker_id = id_or_none(worker_id) if not isinstance(worker_id, bool) else None
    worker = db.session.get(User, worker_id) if worker_id else None
    if (worker is None or worker.role != "social_worker" or not worker.active
            or district_of(worker.area_code) != district_code):
        return None
    return worker


def dismiss_reason(case, data: dict) -> list[str]:
    return [] if data.get("reason") in DISMISS_REASONS else ["reason"]


def assessment_complete(case, data: dict) -> list[str]:
    assessment = _assessment(case)
    if assessment is None:
        return ["assessment"]
    missing = []
    if assessment.risk_level not in RISK_LEVELS:
        missing.append("assessment.risk_level")
    if not [n for n in assessment.needs or [] if n in SERVICES]:
        missing.append("assessment.needs")
    if not (assessment.summary or "").strip():
        missing.append("assessment.summary")
    return missing


def plan_complete(case, data: dict) -> list[str]:
    from casemgmt.workflow.services import plan_goals

    goals = plan_goals(case)
    if not goals:
        return ["plan.goal"]
    missing = []
    actions = [a for g in goals for a in g.actions if a.status != "cancelled"]
    if any(not [a for a in g.actions if a.status != "cancelled"] for g in goals):
        missing.append("plan.goal_actions")
    if any(not a.service for a in actions):
        missing.append("plan.action_service")
    if any(a.organisation_id is None for a in actions):
        missing.append("plan.action_organisation")
    if any(a.due_date is None for a in actions):
        missing.append("plan.action_due_date")
    return missing


def actions_settled(case, data: dict) -> list[str]:
    from casemgmt.workflow.models import PlanAction

    open_actions = db.session.scalar(select(func.count(PlanAction.id)).where(
        PlanAction.case_id == case.id, PlanAction.status == "open"))
    return ["plan.actions_settled"] if open_actions else []


def comment_given(case, data: dict) -> list[str]:
    return [] if (data.get("comment") or "").strip() else ["comment"]


def termination_ready(case, data: dict) -> list[str]:
    from casemgmt.workflow.models import MonitoringVisit

    missing = []
    reason = data.get("reason")
    if reason not in TERMINATION_REASONS or case.stage not in TERMINATION_FROM[reason]:
        missing.append("reason")
    if not (data.get("summary") or "").strip():
        missing.append("summary")
    if case.stage == "monitoring" and reason in ("goals_met", "family_declined"):
        visits = db.session.scalar(select(func.count(MonitoringVisit.id)).where(MonitoringVisit.case_id == case.id))
        if not visits:
            missing.append("monitoring_visit")
    return missing


GUARDS = {
    "triage_accept": triage_accept,
    "dismiss_reason": dismiss_reason,
    "assessment_complete": assessment_complete,
    "plan_complete": plan_complete,
    "actions_settled": actions_settled,
    "comment_given": comment_given,
    "termination_ready": termination_ready,
}
