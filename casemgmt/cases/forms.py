"""The complaint form (mobile first), the case edit form, notes and attachments."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
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
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from casemgmt.codes import RELATIONSHIPS_TO_HEAD, SEXES, SPECIAL_PROTECTION, WELFARE_NEEDS, choices
from casemgmt.forms import Form, PlainForm, MultiCheckboxField

CHANNEL_LABELS = {
    "walk_in": _l("Came in person"),
    "phone": _l("Phone"),
    "hotline": _l("Hotline"),
    "outreach": _l("Outreach / home visit"),
    "other": _l("Other"),
}
CHILD_SEXES = {"F": _l("Girl"), "M": _l("Boy")}


class ChildForm(PlainForm):
    name = StringField(_l("Child's name"), validators=[Length(max=120)],
                       render_kw={"autocomplete": "off", "autocapitalize": "words"})
    sex = RadioField(_l("Sex"), choices=choices(CHILD_SEXES), validate_choice=False)
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    age_years = IntegerField(_l("Or estimated age (years)"), validators=[Optional(), NumberRange(0, 17)],
                             render_kw={"inputmode": "numeric", "min": 0, "max": 17})
    nik = StringField(_l("NIK (optional)"), validators=[Optional(), Length(max=40)],
                      render_kw={"inputmode": "numeric", "autocomplete": "off"},
                      description=_l("16 digits, from the family card (Kartu Keluarga)."))
    area_code = SelectField(_l("Village / kelurahan"), validate_choice=False)
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2})
    kk_number = StringField(_l("KK number (optional)"), validators=[Optional(), Length(max=40)],
                            render_kw={"inputmode": "numeric", "autocomplete": "off"},
                            description=_l("16 digits, the number of the family card (Kartu Keluarga)."))
    relationship_to_head = SelectField(_l("Relationship to the head of household"), validate_choice=False,
                                       choices=choices({"": "—", **RELATIONSHIPS_TO_HEAD}))
    caregiver_name = StringField(_l("Parent or caregiver"), validators=[Optional(), Length(max=120)])
    caregiver_relationship = StringField(_l("Relationship to the child"), validators=[Optional(), Length(max=80)])
    caregiver_phone = StringField(_l("Caregiver's phone"), validators=[Optional(), Length(max=40)],
                                  render_kw={"inputmode": "tel"})
    duplicate = RadioField(_l("Is this the same child?"), validate_choice=False)
    join_household = BooleanField(_l("Yes, add this child to that family"))


class ComplaintForm(Form):
    channel = RadioField(_l("How did the complaint come in?"), choices=choices(CHANNEL_LABELS),
                         validate_choice=False, default="walk_in")
    received_at = DateTimeLocalField(_l("Received on"), format="%Y-%m-%dT%H:%M",
                                     validators=[InputRequired(_l("Give the date and time the complaint was received."))])
    reporter_anonymous = BooleanField(_l("The reporter wishes to stay anonymous"))
    reporter_name = StringField(_l("Reporter's name"), validators=[Optional(), Length(max=120)])
    reporter_phone = StringField(_l("Reporter's phone"), validators=[Optional(), Length(max=40)],
                                 render_kw={"inputmode": "tel"})
    reporter_relationship = StringField(_l("Relationship to the child"), validators=[Optional(), Length(max=80)],
                                        description=_l("For example: neighbour, teacher, aunt."))
    children = FieldList(FormField(ChildForm), min_entries=1, max_entries=10)
    concerns_special = MultiCheckboxField(_l("Children in need of special protection"),
                                          choices=choices(SPECIAL_PROTECTION))
    concerns_welfare = MultiCheckboxField(_l("Child welfare needs"), choices=choices(WELFARE_NEEDS))
    description = TextAreaField(_l("What happened?"), validators=[Length(max=20000)], render_kw={"rows": 5},
                                description=_l("What, when, where, who is involved; what the child needs now."))
    urgent = BooleanField(_l("Urgent: the child is in danger now"))
    reviewed = HiddenField()


class CaseEditForm(Form):
    name = StringField(_l("Child's name"), validators=[Length(max=120)])
    sex = RadioField(_l("Sex"), choices=choices(CHILD_SEXES), validate_choice=False)
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    nik = StringField(_l("NIK (optional)"), validators=[Optional(), Length(max=40)],
                      render_kw={"inputmode": "numeric"})
    area_code = SelectField(_l("Village / kelurahan"), validate_choice=False)
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=500)], render_kw={"rows": 2})
    kk_number = StringField(_l("KK number (optional)"), validators=[Optional(), Length(max=40)],
                            render_kw={"inputmode": "numeric"},
                            description=_l("16 digits, the number of the family card (Kartu Keluarga)."))
    relationship_to_head = SelectField(_l("Relationship to the head of household"), validate_choice=False,
                                       choices=choices({"": "—", **RELATIONSHIPS_TO_HEAD}))
    caregiver_name = StringField(_l("Parent or caregiver"), validators=[Optional(), Length(max=120)])
    caregiver_relationship = StringField(_l("Relationship to the child"), validators=[Optional(), Length(max=80)])
    caregiver_phone = StringField(_l("Caregiver's phone"), validators=[Optional(), Length(max=40)])
    concerns_special = MultiCheckboxField(_l("Children in need of special protection"),
                                          choices=choices(SPECIAL_PROTECTION))
    concerns_welfare = MultiCheckboxField(_l("Child welfare needs"), choices=choices(WELFARE_NEEDS))
    description = TextAreaField(_l("What happened?"), validators=[Length(max=20000)], render_kw={"rows": 5})
    urgent = BooleanField(_l("Urgent: the child is in danger now"))
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class NoteForm(Form):
    text = TextAreaField(_l("Note"), validators=[Length(max=10000)], render_kw={"rows": 3})


class AttachmentForm(Form):
    file = FileField(_l("File (PDF, JPEG or PNG, up to 10 MB)"),
                     render_kw={"accept": "application/pdf,image/jpeg,image/png"})
    description = StringField(_l("Description"), validators=[Optional(), Length(max=200)])


class CaseFilterForm(PlainForm):
    """The case list's filters: a GET form, so a filtered list can be bookmarked."""

    q = StringField(_l("Search"), render_kw={"type": "search", "placeholder": _l("Name, case number or words")})
    stage = SelectField(_l("Stage"), validate_choice=False)
    status = SelectField(_l("Status"), validate_choice=False)
    risk_level = SelectField(_l("Risk"), validate_choice=False)
    concern = SelectField(_l("Concern"), validate_choice=False)
    area = StringField(_l("Region code"), render_kw={"inputmode": "decimal"})
    mine = BooleanField(_l("Assigned to me"))
    overdue = BooleanField(_l("Overdue only"))
    no_nik = BooleanField(_l("Without NIK"))
    estimated_birth = BooleanField(_l("Estimated birth date"))
    idle = BooleanField(_l("No activity for 90 days"))


# What the timeline and conflict messages call each editable field.
FIELD_LABELS = {
    "child.name": _l("Child's name"),
    "child.sex": _l("Sex"),
    "child.birth_date": _l("Birth date"),
    "child.birth_date_estimated": _l("Birth date is an estimate"),
    "child.nik": _l("NIK"),
    "child.area_code": _l("Village / kelurahan"),
    "child.address": _l("Address"),
    "child.caregiver_name": _l("Parent or caregiver"),
    "child.caregiver_relationship": _l("Relationship to the child"),
    "child.caregiver_phone": _l("Caregiver's phone"),
    "child.kk_number": _l("KK number"),
    "child.relationship_to_head": _l("Relationship to the head of household"),
    "complaint.description": _l("What happened?"),
    "complaint.reporter_name": _l("Reporter's name"),
    "complaint.reporter_phone": _l("Reporter's phone"),
    "complaint.reporter_relationship": _l("Relationship to the child"),
    "complaint.reporter_anonymous": _l("Anonymous reporter"),
    "case.urgent": _l("Urgent"),
    "case.concerns": _l("Concerns"),
}


HIV_LABELS = {"unknown": _l("Unknown"), "positive": _l("Positive"), "negative": _l("Negative"),
              "not_disclosed": _l("Not disclosed")}


class SensitiveForm(Form):
    alleged_perpetrator = StringField(_l("Alleged perpetrator"), validators=[Optional(), Length(max=200)])
    perpetrator_relationship = StringField(_l("Relationship to the child"), validators=[Optional(), Length(max=80)])
    sexual_violence_details = TextAreaField(_l("Details of sexual violence"), validators=[Optional(), Length(max=5000)],
                                            render_kw={"rows": 3})
    hiv_status = SelectField(_l("HIV status"), validate_choice=False)


class HouseholdHeadForm(Form):
    head_name = StringField(_l("Name of the head of household"), validators=[Optional(), Length(max=120)],
                            description=_l("As written on the family card (Kartu Keluarga)."))
    head_sex = RadioField(_l("Sex"), choices=choices(SEXES), validate_choice=False)
