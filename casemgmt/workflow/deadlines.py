"""The SOP's clocks (DOMAIN.md defaults), a district's own lengths, and each case's due date.

The defaults are working defaults, not law: an admin changes them per district on the
deadlines page (DeadlineSetting rows), without touching code.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from casemgmt.audit import services as audit
from casemgmt.directory.services import get_area
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.i18n import local_zone
from casemgmt.workflow.models import DeadlineSetting, MonitoringVisit, PlanAction


H = 1  # hours
D = 24  # hours in a day

# clock -> level -> hours. Levels: risk (high/medium/low) or urgency (urgent/normal).
DEFAULT_HOURS: dict[str, dict[str, int]] = {
    "triage": {"urgent": 24 * H, "normal": 72 * H},
    "assessment": {"high": 3 * D, "medium": 7 * D, "low": 14 * D},
    "plan": {"high": 7 * D, "medium": 14 * D, "low": 30 * D},
    "monitoring_visit": {"high": 14 * D, "medium": 30 * D, "low": 90 * D},
    "referral_answer": {"urgent": 24 * H, "normal": 72 * H},
    "conference_review": {"open": 91 * D},
    # Juvenile justice (ABH), PP 65/2015: statutory, the same in every district (STATUTORY).
    "abh_response": {"abh": 1 * D},
    "abh_social_report": {"abh": 3 * D},
    "abh_diversion": {"abh": 7 * D},
}
# Clocks set by law: a district cannot lengthen them (hours_for reads no district setting).
STATUTORY = frozenset({"abh_response", "abh_social_report", "abh_diversion"})

ABH_CONCERNS = frozenset({"abh_offender", "abh_victim", "abh_witness"})


@dataclass(frozen=True)
class JuvenileClock:
    """A juvenile-justice clock: which cases it runs for (a concern among ``concerns``), what
    starts it (``started_by``: the investigator's request recorded on the case) and the step
    whose record stops it (``stopped_by``)."""
    clock: str
    concerns: frozenset
    started_by: str
    stopped_by: str


JUVENILE_CLOCKS: tuple[JuvenileClock, ...] = (
    JuvenileClock("abh_response", ABH_CONCERNS, "investigator_request", "response_given"),
    JuvenileClock("abh_social_report", frozenset({"abh_victim", "abh_witness"}), "investigator_request",
                  "social_report_submitted"),
    JuvenileClock("abh_diversion", frozenset({"abh_offender"}), "investigator_request", "diversion_offered"),
)
JUVENILE_STEP_LABELS = {
    "investigator_request": _l("Request from the investigator received"),
    "response_given": _l("Social worker responded to the investigator"),
    "social_report_submitted": _l("Social report submitted"),
    "diversion_offered": _l("Diversion offered"),
}
# Not a length: in intervention the case is due when its earliest open plan action is.
CLOCKS = set(DEFAULT_HOURS) | {"actions"}

CLOCK_LABELS = {
    "triage": _l("Triage of a new complaint"),
    "assessment": _l("Assessment done after acceptance"),
    "plan": _l("Plan submitted after assessment"),
    "monitoring_visit": _l("Interval between monitoring visits"),
    "referral_answer": _l("Referral answered"),
    "conference_review": _l("Open case reviewed in a case conference"),
    "abh_response": _l("Social worker responds to an investigator's request (ABH)"),
    "abh_social_report": _l("Social report on a child victim or witness (ABH)"),
    "abh_diversion": _l("Diversion offered to a child in conflict with the law (ABH)"),
}
LEVEL_LABELS = {"urgent": _l("Urgent"), "normal": _l("Normal"), "high": _l("High risk"),
                "medium": _l("Medium risk"), "low": _l("Low risk"), "open": _l("Every open case"),
                "abh": _l("Set by law (PP 65/2015)")}


def hours_for(clock: str, level: str, district_code: str | None = None) -> int:
    """The length of a clock in hours: the district's own setting, else the default."""

    if district_code and clock not in STATUTORY:
        hours = db.session.scalar(select(DeadlineSetting.hours).where(
            DeadlineSetting.district_code == district_code, DeadlineSetting.clock == clock,
            DeadlineSetting.level == level))
        if hours is not None:
            return hours
    return DEFAULT_HOURS[clock][level]


def triage_due(received_at: datetime, urgent: bool, district_code: str | None = None) -> datetime:
    """A new complaint is triaged within 24 hours when urgent, 72 hours otherwise (by default)."""
    return received_at + timedelta(hours=hours_for("triage", "urgent" if urgent else "normal", district_code))


def _end_of_local_day(day) -> datetime:
    return datetime.combine(day, time(23, 59), tzinfo=local_zone()).astimezone(ZoneInfo("UTC"))


def compute_due(case, now: datetime) -> datetime | None:
    """When the case's current step is due, from the clock of the stage it is in."""

    if case.status != "open":
        return None
    risk = case.risk_level or "medium"
    entered = case.stage_entered_at or case.created_at or now
    district = case.district_code
    if case.stage == "report":
        return triage_due(case.complaint.received_at, case.urgent, district)
    if case.stage == "assessment":
        return entered + timedelta(hours=hours_for("assessment", risk, district))
    if case.stage == "intervention_plan":
        return entered + timedelta(hours=hours_for("plan", risk, district))
    if case.stage == "intervention":
        first = db.session.scalar(select(PlanAction.due_date).where(
            PlanAction.case_id == case.id, PlanAction.status == "open", PlanAction.due_date.is_not(None))
            .order_by(PlanAction.due_date).limit(1))
        return _end_of_local_day(first) if first else None
    if case.stage == "monitoring":
        last = db.session.scalar(select(MonitoringVisit.visited_on).where(MonitoringVisit.case_id == case.id)
                                 .order_by(MonitoringVisit.visited_on.desc()).limit(1))
        start = _end_of_local_day(last) if last and _end_of_local_day(last) > entered else entered
        return start + timedelta(hours=hours_for("monitoring_visit", risk, district))
    return None


def refresh_due(case, now: datetime) -> None:
    """Set the case's deadline after a change that may move it (a move, an action settled, a
    visit, a referral completed). A deadline that moved, or went, is a new one: the overdue sweep,
    which tells of each deadline once (overdue_notified_at), will tell of it afresh."""
    due = compute_due(case, now)
    if due != case.due_at:
        case.overdue_notified_at = None
    case.due_at = due


def save_district_hours(district_code: str, values: dict[tuple[str, str], int], actor) -> None:
    """Set a district's own clock lengths; a value equal to the default removes the override."""
    from flask_babel import gettext as _


    area = get_area(district_code)
    if area is None or area.level != "regency":
        raise ValidationFailed({"district": _("Unknown region code.")})

    if any(clock in STATUTORY for clock, _level in values):
        raise ValidationFailed({"district": _("Deadlines set by law cannot be changed.")})
    before, after = {}, {}
    for (clock, level), hours in values.items():
        row = db.session.scalar(select(DeadlineSetting).where(
            DeadlineSetting.district_code == district_code, DeadlineSetting.clock == clock,
            DeadlineSetting.level == level))
        key = f"{clock}.{level}"
        before[key] = row.hours if row else DEFAULT_HOURS[clock][level]
        after[key] = hours
        if hours == DEFAULT_HOURS[clock][level]:
            if row is not None:
                db.session.delete(row)
        elif row is None:
            db.session.add(DeadlineSetting(district_code=district_code, clock=clock, level=level, hours=hours,
                                           updated_by_id=actor.id))
        else:
            row.hours, row.updated_by_id = hours, actor.id
    b, a = audit.changes(before, after)
    if a:
        audit.record("deadlines_changed", "district", district_code, actor=actor, before=b, after=a)
    db.session.flush()
