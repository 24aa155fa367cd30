"""What the case page shows of the SOP for one user: the step they can take, what is missing,
the pending approval, and the forms of the current stage, prefilled."""
from __future__ import annotations

from dataclasses import dataclass, field

from wtforms.fields.choices import SelectChoice

from casemgmt.access import coordinates, may_reassign, works_on_case
from casemgmt.codes import SERVICES
from casemgmt.directory.services import list_organisations
from casemgmt.workflow import forms, services
from casemgmt.workflow.forms import worker_choices
from casemgmt.workflow.guards import MISSING_LABELS


@dataclass
class Panel:
    options: list
    pending: object | None
    can_decide: bool
    assessment: object | None
    goals: list
    visits: list
    forms: dict = field(default_factory=dict)
    works_on_case: bool = False
    may_reassign: bool = False
    missing_labels: dict = field(default_factory=lambda: MISSING_LABELS)

    @property
    def allowed(self):
        return [o for o in self.options if o.allowed]


def service_choices(blank: str) -> list[SelectChoice]:
    return [SelectChoice("", blank)] + [SelectChoice(code, label) for code, label in SERVICES.items()]


def organisation_choices(district_code: str, blank: str) -> list[SelectChoice]:
    orgs = list_organisations(area_code=district_code)
    return [SelectChoice("", blank)] + [SelectChoice(str(o.id), o.name) for o in orgs]


def panel(case, user) -> Panel:
    pending = services.pending_approval(case)
    can_decide = pending is not None and pending.requested_by_id != user.id and coordinates(user, case.district_code)
    result = Panel(options=services.options(case, user, pending=pending), pending=pending, can_decide=can_decide,
                   assessment=services.get_assessment(case), goals=services.plan_goals(case),
                   visits=services.visits(case))
    for option in result.allowed:
        result.forms[option.transition.name] = forms.transition_form(option.transition, case, version=case.version)
    editing = works_on_case(user, case)
    result.works_on_case = editing
    if editing and case.stage == "assessment":
        a = result.assessment
        # The risk starts at what triage set until the assessment records its own; the form shows
        # the saved record, never another form's post (a refused note re-renders this page).
        result.forms["assessment"] = forms.AssessmentForm(
            formdata=None, prefix="assessment", version=a.version if a else 0,
            risk_level=(a.risk_level if a and a.risk_level else case.risk_level) or "",
            needs=a.needs if a else [], summary=a.summary if a else "")
    if editing and case.stage in ("intervention", "monitoring"):
        result.forms["action"] = forms.ActionUpdateForm(prefix="action")
    if editing and case.stage == "monitoring":
        result.forms["visit"] = forms.VisitForm(prefix="visit")
    if result.can_decide:
        result.forms["decision"] = forms.DecisionForm(prefix="decision")
    # The hand-over form is fetched when opened (reassign_form): its list of the district's
    # workers would cost every case page the coordinator opens, for a form used rarely.
    # Not while a request waits for approval: services.reassign refuses then (ApprovalPending).
    result.may_reassign = may_reassign(user, case, pending)
    return result


def reassign_form(case, form=None, version: int | None = None):
    """The hand-over form of a case, offering the district's other active social workers. A new
    form carries ``version``, the case's version when its page was loaded (the form is fetched
    later, when its section is opened: a change made in between must still be caught)."""
    form = form or forms.ReassignForm(prefix="reassign", version=case.version if version is None else version)
    form.assigned_worker_id.choices = [c for c in worker_choices(case.district_code)
                                       if c.value != str(case.assigned_worker_id)]
    return form


@dataclass
class JuvenilePanel:
    """The case page's juvenile-justice clocks: each run with its label and step, and the forms
    of the one who works on the case."""
    runs: list
    may_record: bool
    request_form: object | None = None
    step_form: object | None = None


def juvenile_panel(case, user) -> JuvenilePanel | None:
    """None for a case without an ABH concern and no clock ever started."""
    from casemgmt.workflow import juvenile

    runs = juvenile.runs_of(case)
    if not runs and not juvenile.clocks_for(case):
        return None
    may_record = case.status == "open" and works_on_case(user, case)
    return JuvenilePanel(runs=[(run, juvenile.BY_CLOCK[run.clock]) for run in runs], may_record=may_record,
                         request_form=forms.InvestigatorRequestForm(formdata=None, prefix="juvenile")
                         if may_record and juvenile.clocks_for(case) else None,
                         step_form=forms.ClockStepForm(formdata=None, prefix="step") if may_record else None)
