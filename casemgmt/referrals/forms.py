"""Referral forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, HiddenField, IntegerField, RadioField, SelectField, TextAreaField
from wtforms.validators import Length, Optional

from casemgmt.forms import Form, id_or_none
from casemgmt.codes import choices
from casemgmt.referrals.models import CONSENT_GIVERS

CONSENT_LABELS = {"child": _l("The child (assent)"), "caregiver": _l("The parent or caregiver"),
                  "both": _l("Both the child and the caregiver")}
URGENCY_LABELS = {"normal": _l("Normal (answer within 72 hours)"), "urgent": _l("Urgent (answer within 24 hours)")}
assert set(CONSENT_LABELS) == set(CONSENT_GIVERS)


class ReferralForm(Form):
    service = SelectField(_l("Service"), validate_choice=False)
    to_organisation_id = RadioField(_l("Refer to"), coerce=id_or_none,
                                    validate_choice=False)
    reason = TextAreaField(_l("Why is the child referred?"), validators=[Optional(), Length(max=5000)],
                           render_kw={"rows": 3})
    urgency = RadioField(_l("Urgency"), choices=choices(URGENCY_LABELS), default="normal", validate_choice=False)
    consent_given_by = RadioField(_l("Consent given by"), choices=choices(CONSENT_LABELS), validate_choice=False)
    consent_recorded_on = DateField(_l("Consent recorded on"), validators=[Optional()])
    override = BooleanField(_l("Refer without consent (coordinator's decision)"))
    override_reason = TextAreaField(_l("Why consent is overridden"), validators=[Optional(), Length(max=2000)],
                                    render_kw={"rows": 2})
    plan_action_id = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class AnswerForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
    reason = TextAreaField(_l("Reason"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})
    outcome = TextAreaField(_l("Service given"), validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})
    delivered_on = DateField(_l("Delivered on"), validators=[Optional()])
    service = SelectField(_l("Service"), validate_choice=False)
