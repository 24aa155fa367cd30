"""Conference forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    FormField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, Optional

from casemgmt.forms import Form, PlainForm, MultiCheckboxField, id_or_none


class ScheduleForm(Form):
    title = StringField(_l("Title"), validators=[Length(max=200)])
    scheduled_at = DateTimeLocalField(_l("Date and time"), format="%Y-%m-%dT%H:%M", validators=[Optional()])
    location = StringField(_l("Place or online link"), validators=[Optional(), Length(max=300)])
    case_ids = MultiCheckboxField(_l("Cases to discuss"), coerce=id_or_none, validate_choice=False)
    organisation_ids = MultiCheckboxField(_l("Invited organisations"), coerce=id_or_none, validate_choice=False)


class AttendeeForm(PlainForm):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
    organisation_id = SelectField(_l("Organisation"), coerce=id_or_none, validate_choice=False)
    sex = SelectField(_l("Sex"), validate_choice=False)


class AttendanceForm(Form):
    attendees = FieldList(FormField(AttendeeForm), min_entries=1, max_entries=60)


class DecisionActionForm(PlainForm):
    description = StringField(_l("Action"), validators=[Optional(), Length(max=500)])
    owner_organisation_id = SelectField(_l("Owner"), coerce=id_or_none, validate_choice=False)
    owner_user_id = SelectField(_l("Person (optional)"), coerce=id_or_none, validate_choice=False)
    due_date = DateField(_l("Due date"), validators=[Optional()])


class DecisionForm(Form):
    case_id = IntegerField(widget=HiddenField.widget)
    summary = TextAreaField(_l("Discussion and decisions"), validators=[Optional(), Length(max=20000)],
                            render_kw={"rows": 3})
    approve = SelectField(_l("Decide the pending request"), validate_choice=False)
    actions = FieldList(FormField(DecisionActionForm), min_entries=3, max_entries=3)


class CloseForm(Form):
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
