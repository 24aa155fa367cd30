"""Log-in, password and user forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from casemgmt.codes import ROLES, SEXES, choices
from casemgmt.forms import Form, PlaceField, id_or_none


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter your username.")), Length(max=60)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"})
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")), Length(max=200)],
                             render_kw={"autocomplete": "current-password"})


class NewPasswordMixin:
    password = PasswordField(_l("New password"), validators=[DataRequired(_l("Enter a new password.")), Length(max=200)],
                             render_kw={"autocomplete": "new-password"},
                             description=_l("At least 10 characters, not your username, not a common password."))
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(_l("Repeat the new password.")),
                                        EqualTo("password", _l("The two passwords differ."))],
                            render_kw={"autocomplete": "new-password"})


class ChangePasswordForm(NewPasswordMixin, Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password."))],
                                     render_kw={"autocomplete": "current-password"})


class ResetPasswordForm(NewPasswordMixin, Form):
    pass


class UserForm(Form):
    username = StringField(_l("Username"), validators=[DataRequired(_l("Enter a username.")), Length(max=60)],
                           render_kw={"autocapitalize": "none", "spellcheck": "false"})
    full_name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter the full name.")), Length(max=120)])
    sex = SelectField(_l("Sex"), choices=choices(SEXES), validators=[DataRequired(_l("Choose female or male."))])
    role = SelectField(_l("Role"), choices=choices(ROLES), validators=[DataRequired(_l("Choose a role."))])
    organisation_id = SelectField(_l("Organisation"), coerce=id_or_none,
                                  validate_choice=False)
    area_code = PlaceField(_l("Area"), validators=[Optional(), Length(max=13)],
                           description=_l("Leave empty to use the organisation's area."))
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)])
    active = BooleanField(_l("Active"), default=True)
    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class NewUserForm(NewPasswordMixin, UserForm):
    pass


class ActionForm(Form):
    """A button that changes something: CSRF token plus the version the user saw."""

    version = IntegerField(widget=HiddenField.widget, validators=[Optional()])


class CodeForm(Form):
    code = StringField(_l("Code from your authenticator app"), validators=[DataRequired(_l("Enter the 6-digit code.")),
                                                                          Length(max=10)],
                       render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"})


class ContactForm(Form):
    """What a user sets on their own account page (accounts.services.update_contact checks it)."""

    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=200)],
                       render_kw={"autocomplete": "email", "autocapitalize": "none", "spellcheck": "false"})
    phone = StringField(_l("Mobile phone"), validators=[Optional(), Length(max=40)],
                        render_kw={"autocomplete": "tel", "inputmode": "tel"},
                        description=_l("For SMS or WhatsApp messages, e.g. 0812 3456 7890."))
    language = SelectField(_l("Language"), choices=[SelectChoice("", _l("The default (Bahasa Indonesia)")),
                                                    SelectChoice("id", "Bahasa Indonesia"),
                                                    SelectChoice("en", "English")],
                           validators=[Optional()])
