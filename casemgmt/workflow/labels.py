"""Labels of the SOP's codes for templates."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from casemgmt.workflow.definition import ACTOR_RULES, BY_NAME, DISMISS_REASONS, TERMINATION_REASONS

ACTION_STATUS_LABELS = {"open": _l("Open"), "done": _l("Done"), "cancelled": _l("Cancelled")}
PROGRESS_LABELS = {"improved": _l("Improved"), "same": _l("The same"), "worse": _l("Worse")}
CLOSURE_LABELS = {**DISMISS_REASONS, **TERMINATION_REASONS}


REFERRAL_STATUS_LABELS = {"sent": _l("Sent"), "accepted": _l("Accepted"), "declined": _l("Declined"),
                          "completed": _l("Completed"), "cancelled": _l("Cancelled")}


TASK_KIND_LABELS = {"stage_deadline": _l("Stage deadline"), "conference_action": _l("Conference action"),
                    "referral_answer": _l("Referral to answer"), "approval": _l("Approval"),
                    "outreach": _l("Outreach visit")}


def consent_label(code: str) -> str:
    from casemgmt.referrals.forms import CONSENT_LABELS

    return str(CONSENT_LABELS.get(code, code))


def transition_label(name: str) -> str:
    return str(BY_NAME[name].label) if name in BY_NAME else name


def template_globals() -> dict:
    return {
        "transition_label": transition_label,
        "action_status_label": lambda code: str(ACTION_STATUS_LABELS.get(code, code)),
        "progress_label": lambda code: str(PROGRESS_LABELS.get(code, code)),
        "closure_label": lambda code: str(CLOSURE_LABELS.get(code, code or "")),
        "actor_label": lambda code: str(ACTOR_RULES.get(code, code)),
        "consent_label": consent_label,
        "task_kind_label": lambda code: str(TASK_KIND_LABELS.get(code, code)),
        "referral_status_label": lambda code: str(REFERRAL_STATUS_LABELS.get(code, code)),
    }
