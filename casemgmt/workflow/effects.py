"""What a transition does to the case besides moving it: the effects the SOP table names.

Each effect is ``effect(case, data, now)``, run by the engine when the transition is taken
(after its guard passed); ``definition.validate`` refuses a table naming one not listed here.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from casemgmt.extensions import db


def triage(case, data: dict, now: datetime) -> None:
    """The coordinator's triage: the risk they set and the worker they chose."""
    case.risk_level = data["risk_level"]
    case.assigned_worker_id = data["assigned_worker_id"]


def risk_from_assessment(case, data: dict, now: datetime) -> None:
    """The assessment's risk level becomes the case's."""
    from casemgmt.workflow.models import Assessment

    case.risk_level = db.session.scalar(select(Assessment.risk_level).where(Assessment.case_id == case.id))


def close(case, data: dict, now: datetime) -> None:
    case.status = "closed"
    case.closed_at = now
    case.closure_reason = data.get("reason")
    case.closure_summary = data.get("summary") or None
    case.goals_met = bool(data.get("goals_met")) if "goals_met" in data else (data.get("reason") == "goals_met" or None)


def reopen(case, data: dict, now: datetime) -> None:
    case.status = "open"
    case.closed_at = case.closure_reason = case.closure_summary = case.goals_met = None


EFFECTS = {
    "triage": triage,
    "risk_from_assessment": risk_from_assessment,
    "close": close,
    "reopen": reopen,
}
