"""The six stages of the national SOP, in the order the district trainings teach them."""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


@dataclass(frozen=True)
class Stage:
    code: str
    label: str
    produces: str


STAGES: tuple[Stage, ...] = (
    Stage("report", _l("Complaint"), _l("The complaint is registered: reporter, child, place, concerns, what happened.")),
    Stage("assessment", _l("Assessment"), _l("Risk level, needs by domain and a summary.")),
    Stage("intervention_plan", _l("Intervention plan"), _l("Goals with actions: service, responsible organisation, due date.")),
    Stage("intervention", _l("Intervention"), _l("Services delivered, mostly through referrals.")),
    Stage("monitoring", _l("Monitoring and evaluation"), _l("Follow-up visits with progress; evaluation of goals.")),
    Stage("termination", _l("Termination"), _l("Closure reason, goals met and a final summary.")),
)

STAGE_CODES = tuple(stage.code for stage in STAGES)
