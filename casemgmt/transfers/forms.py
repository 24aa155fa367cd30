"""Forms of reassigning a caseload and of transfers between districts."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length, Optional

from casemgmt.forms import Form, MultiCheckboxField, id_or_none


class CaseloadForm(Form):
    # The cases ticked on the caseload page (their ids); "all" moves every open case instead.
    case_ids = SelectMultipleField(_l("Cases"), coerce=str, validate_choice=False)
    all_cases = BooleanField(_l("All the worker's open cases"))
    to_worker_id = SelectField(_l("Hand them to"), coerce=id_or_none, validate_choice=False)
    reason = TextAreaField(_l("Why the cases change hands"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})


class TransferRequestForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
    to_organisation_id = SelectField(_l("PKSAI of the district that takes the case over"), coerce=id_or_none,
                                     validate_choice=False)
    reason = TextAreaField(_l("Why the case moves"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})


class TransferAcceptForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
    assigned_worker_id = SelectField(_l("Social worker who takes the case"), coerce=id_or_none,
                                     validate_choice=False)
    cancel_referral_ids = MultiCheckboxField(_l("Open referrals to cancel (the others are kept)"), coerce=str,
                                             validate_choice=False)


class TransferDeclineForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
    reason = TextAreaField(_l("Why the transfer is declined"), validators=[Optional(), Length(max=2000)],
                           render_kw={"rows": 2})


class TransferCancelForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
