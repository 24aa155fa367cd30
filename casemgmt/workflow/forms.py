"""Forms of the SOP's steps: triage, assessment, plan, actions, visits, termination, approvals."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Length, Optional

from casemgmt.access import active_users_in

from casemgmt.forms import Form, PlainForm, id_or_none
from casemgmt.codes import SERVICES, choices
from casemgmt.forms import MultiCheckboxField
from casemgmt.workflow.definition import DISMISS_REASONS, TERMINATION_FROM, TERMINATION_REASONS

RISK_CHOICES = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
PROGRESS_CHOICES = {"improved": _l("Improved"), "same": _l("The same"), "worse": _l("Worse")}


class VersionedForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


def worker_choices(district_code: str) -> list[SelectChoice]:
    """Social workers to assign, after a blank first choice: nobody is assigned by default."""
    workers = active_users_in(district_code, "social_worker")
    return [SelectChoice("", "—")] + [SelectChoice(str(u.id), u.full_name) for u in workers]


class TransitionForm(VersionedForm):
    """A step that asks only for a comment; the others add their fields and choices."""

    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})

    def offer(self, case) -> None:
        """Fill the choices this case offers (before validating or showing the form)."""


class AcceptForm(TransitionForm):
    risk_level = SelectField(_l("Risk level"), choices=choices(RISK_CHOICES), validate_choice=False,
                             default="medium")
    assigned_worker_id = SelectField(_l("Social worker"), coerce=id_or_none,
                                     validate_choice=False)

    def offer(self, case) -> None:
        self.assigned_worker_id.choices = worker_choices(case.district_code)


class ReassignForm(VersionedForm):
    assigned_worker_id = SelectField(_l("New social worker"), coerce=id_or_none, validate_choice=False)
    reason = TextAreaField(_l("Why the case changes hands"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})


class DismissForm(TransitionForm):
    reason = SelectField(_l("Reason"), choices=choices(DISMISS_REASONS), validate_choice=False)


class TerminateForm(TransitionForm):
    reason = SelectField(_l("Reason for closing"), choices=choices(TERMINATION_REASONS), validate_choice=False)
    summary = TextAreaField(_l("Final summary"), validators=[Optional(), Length(max=20000)], render_kw={"rows": 3})
    goals_met = BooleanField(_l("The plan's goals were met"))

    def offer(self, case) -> None:
        self.reason.choices = [SelectChoice(code, label) for code, label in TERMINATION_REASONS.items()
                               if case.stage in TERMINATION_FROM[code]]


# The forms the SOP table's transitions name (definition.Transition.form).
TRANSITION_FORMS: dict[str, type[TransitionForm]] = {
    "plain": TransitionForm,
    "accept": AcceptForm,
    "dismiss": DismissForm,
    "terminate": TerminateForm,
}


def transition_form(transition, case, **values) -> TransitionForm:
    """The form of ``transition`` for ``case``: from the request when one was posted, else new
    with ``values``; its choices filled for the case."""
    form = TRANSITION_FORMS[transition.form](prefix=transition.name, **values)
    form.offer(case)
    return form


def data_keys(transition) -> frozenset[str]:
    """What a transition's data may carry: the fields of its form (not its version)."""
    form_class = TRANSITION_FORMS[transition.form]
    return frozenset(name for name in dir(form_class)
                     if isinstance(getattr(form_class, name, None), UnboundField) and name != "version")


class AssessmentForm(VersionedForm):  # the assessment's version, 0 before one is saved
    risk_level = SelectField(_l("Risk level"), choices=[SelectChoice("", "—")] + choices(RISK_CHOICES),
                             validate_choice=False)
    needs = MultiCheckboxField(_l("Needs (services)"), choices=choices(SERVICES))
    summary = TextAreaField(_l("Assessment summary"), validators=[Optional(), Length(max=20000)],
                            render_kw={"rows": 5})


class ActionRowForm(PlainForm):
    description = StringField(_l("Action"), validators=[Optional(), Length(max=500)])
    service = SelectField(_l("Service"), validate_choice=False)
    organisation_id = SelectField(_l("Responsible organisation"),
                                  coerce=id_or_none, validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[Optional()])


class GoalForm(PlainForm):
    description = TextAreaField(_l("Goal"), validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    actions = FieldList(FormField(ActionRowForm), min_entries=1, max_entries=15)


class PlanForm(VersionedForm):  # the plan's version (services.plan_version)
    goals = FieldList(FormField(GoalForm), min_entries=1, max_entries=10)


class ActionUpdateForm(Form):
    status = RadioField(_l("Outcome"), choices=choices({"done": _l("Done"), "cancelled": _l("Cancelled")}),
                        validate_choice=False, default="done")
    done_on = DateField(_l("Done on"), validators=[Optional()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=2000)])


class VisitForm(Form):
    visited_on = DateField(_l("Date of the visit"), validators=[Optional()])
    progress = RadioField(_l("Progress"), choices=choices(PROGRESS_CHOICES), validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=10000)], render_kw={"rows": 3})


class DecisionForm(Form):
    decision = HiddenField()
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2},
                            description=_l("Required when you send the request back."))


class DeadlineForm(Form):
    district = SelectField(_l("Kabupaten / kota"), validate_choice=False)


class InvestigatorRequestForm(Form):
    """An investigator's request for the social worker (juvenile justice): when it was received."""
    received_at = DateTimeLocalField(_l("Request from the investigator received at"), format="%Y-%m-%dT%H:%M",
                                     validators=[DataRequired(_l("Give the date and time the request was received."))])


class ClockStepForm(Form):
    """Record the step a juvenile-justice clock waits for (nothing to fill in: the button says it)."""
