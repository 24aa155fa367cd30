"""Labels of the SOP's codes for templates."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from casemgmt.workflow.definition import ACTOR_RULES, BY_NAME, DISMISS_REASONS, TERMINATION_REASONS

ACTION_STATUS_LABELS = {"open": _l("Open"), "done": _l("Done"), "cancelled": _l("Cancelled")}
PROGRESS_LABELS = {"improved": _l("Improved"), "same": _l("The same"), "worse": _l("Worse")}
CLOSURE_LABELS = {**DISMISS_REASONS, **TERMINATION_REASONS}


RISK_LABELS = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
CASE_STATUS_LABELS = {"open": _l("Open"), "closed": _l("Closed")}
# A background job's (a population import's, an export's).
JOB_STATUS_LABELS = {"queued": _l("Waiting"), "running": _l("Running"), "done": _l("Done"), "failed": _l("Failed")}

# What each kind of timeline entry says when it carries nothing more specific (cases/_event.html
# words the ones with data); every kind written with cases.timeline.add_event has one.
EVENT_LABELS = {
    "registered": _l("Complaint registered"),
    "note": _l("Note"),
    "attachment_added": _l("File attached"),
    "duplicate_check": _l("Checked against possible duplicates"),
    "complaint_linked": _l("A new complaint about this child was linked to the case"),
    "updated": _l("Record changed"),
    "sensitive_updated": _l("Protected details changed"),
    "transition": _l("Step taken"),
    "reassigned": _l("Handed to another social worker"),
    "transfer_requested": _l("Transfer to another district requested"),
    "transfer_accepted": _l("Transferred to another district"),
    "approval_requested": _l("Approval requested"),
    "approval_approved": _l("Approved"),
    "approval_rejected": _l("Sent back"),
    "assessment_saved": _l("Assessment saved"),
    "plan_saved": _l("Plan saved"),
    "action_done": _l("Action done"),
    "action_cancelled": _l("Action cancelled"),
    "monitoring_visit": _l("Monitoring visit"),
    "referral_sent": _l("Referral sent"),
    "referral_accepted": _l("Referral accepted"),
    "referral_declined": _l("Referral declined"),
    "referral_completed": _l("Referral completed"),
    "referral_cancelled": _l("Referral cancelled"),
    "referral_overdue": _l("Referral not answered in time"),
    "overdue": _l("Deadline passed"),
    "conference_scheduled": _l("Put on the agenda of a case conference"),
    "conference_decision": _l("Decision of a case conference"),
    "conference_action": _l("Action agreed in a case conference"),
    "conference_action_done": _l("Conference action done"),
    "conference_closed": _l("Case conference closed"),
    "investigator_request": _l("Request from the investigator received"),
    "response_given": _l("Social worker responded to the investigator"),
    "social_report_submitted": _l("Social report submitted"),
    "diversion_offered": _l("Diversion offered"),
    "juvenile_clock_overdue": _l("Juvenile justice deadline passed"),
}


def event_label(kind: str) -> str:
    """A timeline kind in words; a kind without a label yet reads as a generic entry, never as code."""
    label = EVENT_LABELS.get(kind)
    return str(label) if label is not None else str(_l("Entry on the record"))


REFERRAL_STATUS_LABELS = {"sent": _l("Sent"), "accepted": _l("Accepted"), "declined": _l("Declined"),
                          "completed": _l("Completed"), "cancelled": _l("Cancelled")}


TASK_KIND_LABELS = {"stage_deadline": _l("Stage deadline"), "conference_action": _l("Conference action"),
                    "referral_answer": _l("Referral to answer"), "approval": _l("Approval"),
                    "juvenile_clock": _l("Juvenile justice deadline"), "outreach": _l("Outreach visit")}


def consent_label(code: str) -> str:
    from casemgmt.referrals.forms import CONSENT_LABELS

    return str(CONSENT_LABELS.get(code, code))


def transition_label(name: str) -> str:
    return str(BY_NAME[name].label) if name in BY_NAME else name


def time_between(start, end) -> str:
    """How long from ``start`` to ``end``, in words ("3 jam")."""
    from flask_babel import format_timedelta

    return format_timedelta(end - start, granularity="minute", threshold=1)


def template_globals() -> dict:
    from casemgmt.workflow.deadlines import CLOCK_LABELS, JUVENILE_STEP_LABELS

    return {
        "clock_label": lambda code: str(CLOCK_LABELS.get(code, code)),
        "juvenile_step_label": lambda code: str(JUVENILE_STEP_LABELS.get(code, code)),
        "time_between": time_between,
        "transition_label": transition_label,
        "action_status_label": lambda code: str(ACTION_STATUS_LABELS.get(code, code)),
        "progress_label": lambda code: str(PROGRESS_LABELS.get(code, code)),
        "closure_label": lambda code: str(CLOSURE_LABELS.get(code, code or "")),
        "actor_label": lambda code: str(ACTOR_RULES.get(code, code)),
        "consent_label": consent_label,
        "task_kind_label": lambda code: str(TASK_KIND_LABELS.get(code, code)),
        "risk_label": lambda code: str(RISK_LABELS.get(code, code or "")),
        "case_status_label": lambda code: str(CASE_STATUS_LABELS.get(code, code or "")),
        "job_status_label": lambda code: str(JOB_STATUS_LABELS.get(code, code or "")),
        "event_label": event_label,
        "referral_status_label": lambda code: str(REFERRAL_STATUS_LABELS.get(code, code)),
    }
