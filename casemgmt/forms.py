"""Form helpers shared by every feature."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask_babel import Domain
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import Field, SelectMultipleField, StringField, widgets
from wtforms import Form as WTForm
from wtforms.widgets import core as widget_core

from casemgmt.dbtypes import MAX_ID
from casemgmt.errors import ServiceError, StaleVersion, ValidationFailed
from casemgmt.extensions import db


# WTForms' own messages ("This field is required.", "Not a valid date value.", "Field cannot be
# longer than %(max)d characters.") in the request's language. WTForms ships no Indonesian:
# Flask-WTF looked for it there and answered in English on Indonesian pages. The catalogue is
# casemgmt/translations/<lang>/LC_MESSAGES/wtforms.po; English is WTForms' source text.
WTFORMS_MESSAGES = Domain(domain="wtforms")


class MessagesMeta:
    """A form's Meta: WTForms' messages from WTFORMS_MESSAGES."""

    def get_translations(self, form):
        return WTFORMS_MESSAGES.get_translations()


class Form(FlaskForm):
    """Every page's form (CSRF-protected), its WTForms messages in the user's language."""

    class Meta(MessagesMeta):
        pass


class PlainForm(WTForm):
    """A form without CSRF (a list's GET filters) or a part of one (FormField, FieldList), its
    WTForms messages in the user's language as Form's."""

    class Meta(MessagesMeta):
        pass


def deepest_place(values) -> str:
    """The place a place picker chose: of the codes its selects sent (kabupaten, kecamatan,
    desa, each one part longer than its parent), the deepest one chosen; "" for none."""
    chosen = [v.strip() for v in values or [] if v and v.strip()]
    return max(chosen, key=lambda code: code.count("."), default="")


class PlaceField(StringField):
    """A region code chosen with the place picker (templates/_place_picker.html): one select per
    level, all under the field's name; the deepest one chosen is the value."""

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = deepest_place(valuelist)


WTFORMS_HTML_PARAMS = widget_core.html_params


def html_params(**kwargs) -> Markup:
    """WTForms' html_params, the same string made without Markup.format: WTForms passes each
    attribute of every field and option it renders through string.Formatter, a large part of
    rendering a field; the case page's accept form lists a district's social workers, each an
    option."""
    params = []
    for key, value in sorted(kwargs.items()):
        key = widget_core.clean_key(key)
        if value is True:
            params.append(str(escape(key)))
        elif value is not False:
            # escape leaves a Markup value as it is; WTForms then writes its quotes as &quot;
            params.append(f'{escape(key)}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(params))


def install() -> None:
    """WTForms renders attributes through html_params from three places: the module's name
    (selects, options, text areas, looked up when they render), Input's and Button's copies of it
    (every input and button), and wtforms.widgets' (every label)."""
    widget_core.html_params = widgets.html_params = html_params
    widget_core.Input.html_params = widget_core.Button.html_params = staticmethod(html_params)


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def field_at(form, key: str):
    """The field a service's error key names: "summary", or a path into repeated sub-forms such
    as "actions.0.due_date" (FieldList entry 0 of actions); None when the form has no such field."""
    target = form
    for part in key.split("."):
        if part.isdigit():
            entries = getattr(target, "entries", None)
            if entries is None or int(part) >= len(entries):
                return None
            target = getattr(entries[int(part)], "form", entries[int(part)])
        else:
            target = getattr(target, part, None)
            if target is None:
                return None
    return target if isinstance(target, Field) else None


def apply_errors(form, exc: ValidationFailed, field_map: dict[str, str] | None = None) -> None:
    """Show a service's validation errors next to the form fields they belong to; those of a
    hidden field, which no page shows, with the form's own (form_errors)."""
    field_map = field_map or {}
    for key, messages in exc.errors.items():
        field = field_at(form, field_map.get(key, key))
        if field is not None and getattr(field.widget, "input_type", None) != "hidden":
            field.errors = list(field.errors or []) + list(messages)
        else:
            form.form_errors.extend(messages)


def refused(exc: ServiceError, form=None, field_map: dict[str, str] | None = None, *,
            shows_forbidden: bool = False) -> str:
    """How a view shows an operation the service refused: the operation is rolled back (the
    request commits nothing of it), 403 and 404 go on to errors.py (unless the page shows a 403
    itself: ``shows_forbidden``, the SOP's problem page keeps what was typed), a ValidationFailed's field
    errors stand next to their fields, a StaleVersion's form takes the version now saved; the
    one message left for the page is returned. A refusal that is itself recorded
    (``keeps_changes``: a failed log-in) keeps what it wrote."""
    if not exc.keeps_changes:
        db.session.rollback()
    if exc.status == 404 or (exc.status == 403 and not shows_forbidden):
        raise exc
    if form is not None:
        if isinstance(exc, ValidationFailed):
            apply_errors(form, exc, field_map)
        elif (isinstance(exc, StaleVersion) and "current_version" in exc.details
              and getattr(form, "version", None) is not None):
            show_current_version(form.version, exc.details["current_version"])
    return exc.message


def id_or_none(value) -> int | None:
    """A record id from a form field: a whole number the database can hold, or None."""
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def show_current_version(field, version: int) -> None:
    """After a conflict, the form carries the version now saved: saving again, having seen the
    other person's changes, is a deliberate overwrite. (raw_data wins over data when rendering.)"""
    field.data = version
    field.raw_data = [str(version)]


def safe_next(target: str | None, default: str) -> str:
    """A redirect target only if it stays on this site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
