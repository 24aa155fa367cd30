"""Organisation form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from casemgmt.codes import ORGANISATION_KINDS, SERVICES, choices
from casemgmt.forms import Form, MultiCheckboxField, PlaceField


class OrganisationForm(Form):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the organisation's name.")), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=choices(ORGANISATION_KINDS),
                       validators=[DataRequired(_l("Choose a kind of organisation."))])
    area_code = PlaceField(_l("Seat"), validators=[DataRequired(_l("Choose where the organisation sits.")),
                                                   Length(max=13)],
                           description=_l("The kabupaten/kota, kecamatan or village where the organisation sits."))
    services = MultiCheckboxField(_l("Services offered"), choices=choices(SERVICES))
    # The areas covered now, each a ticked box (untick to drop it); covers_add picks one more.
    covers = MultiCheckboxField(_l("Areas covered"), validate_choice=False,
                                description=_l("Untick an area to stop covering it."))
    covers_add = PlaceField(_l("Add an area covered"), validators=[Optional(), Length(max=13)],
                            description=_l("Pick a kabupaten/kota, kecamatan or village, then save."))
    contact_person = StringField(_l("Contact person"), validators=[Optional(), Length(max=120)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)])
    active = BooleanField(_l("Active"), default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class DistrictSettingsForm(Form):
    """What a district sets for itself (directory.services.save_district_settings checks the ranges)."""

    digest_time = TimeField(_l("Time of the daily e-mail digest (WITA)"), validators=[InputRequired()])
    caseload_threshold = IntegerField(_l("Open cases per social worker above which a caseload is flagged"),
                                      validators=[InputRequired()])
    population_retention_days = IntegerField(_l("Days a population extract is kept when no newer one "
                                                "replaces it"), validators=[InputRequired()])
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])
