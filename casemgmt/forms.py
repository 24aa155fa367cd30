"""Form helpers shared by every feature."""
from __future__ import annotations

from urllib.parse import urlsplit

from wtforms import Field, SelectMultipleField, widgets

from casemgmt.dbtypes import MAX_ID
from casemgmt.errors import ValidationFailed


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
    """Show a service's validation errors next to the form fields they belong to."""
    field_map = field_map or {}
    for key, messages in exc.errors.items():
        field = field_at(form, field_map.get(key, key))
        if field is not None:
            field.errors = list(field.errors or []) + list(messages)
        else:
            form.form_errors.extend(messages)


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
