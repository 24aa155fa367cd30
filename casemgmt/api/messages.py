"""The API's field messages in the caller's language (Accept-Language, Bahasa Indonesia by default).

marshmallow's own messages are English strings, filled in with ``str.format`` where they are raised
and kept by webargs as plain lists of strings. ``install`` (run by ``casemgmt.api`` before any
schema is defined) replaces each default with a ``Message``: a string that remembers its English
text and the values it was filled in with, so the error handler (``translated``) can answer in the
request's language. Anything else in the messages is left as it is.
"""
from __future__ import annotations

from flask_babel import gettext
from marshmallow import Schema, fields, validate


class Message(str):
    """An English message of the API's validation, translated when answered (``translated``)."""

    msgid: str
    values: dict

    def __new__(cls, msgid: str, values: dict | None = None):
        text = super().__new__(cls, msgid.format(**values) if values else msgid)
        text.msgid, text.values = msgid, values or {}
        return text

    def format(self, *args, **kwargs):  # as marshmallow fills in a message: kept for translation
        return Message(self.msgid, {**self.values, **kwargs})

    def translated(self) -> str:
        return gettext(self.msgid).format(**self.values)


def translated(messages):
    """webargs' messages (a dict of fields, lists, nested dicts) in the request's language."""
    if isinstance(messages, dict):
        return {key: translated(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [translated(value) for value in messages]
    return messages.translated() if isinstance(messages, Message) else messages


# Between numbers: each Range of the API is inclusive at both ends (validate.Range's own messages
# are filled in twice, once in its constructor, which a kept message cannot follow).
BETWEEN = Message("Must be from {min} to {max}.")


def install() -> None:
    """marshmallow's default messages, as the API's fields and validators use them, replaced."""
    fields.Field.default_error_messages = {
        "required": Message("This field is required."),
        "null": Message("This field may not be empty."),
        "validator_failed": Message("Invalid value."),
    }
    fields.String.default_error_messages = {"invalid": Message("Give text."),
                                            "invalid_utf8": Message("Give text.")}
    fields.Number.default_error_messages = {"invalid": Message("Give a number."),
                                            "too_large": Message("The number is too large.")}
    fields.Integer.default_error_messages = {"invalid": Message("Give a whole number.")}
    fields.Boolean.default_error_messages = {"invalid": Message("Give true or false.")}
    fields.Date.default_error_messages = {
        "invalid": Message("Give a date as YYYY-MM-DD."),
        "invalid_awareness": Message("Give a date as YYYY-MM-DD."),
        "format": Message("Give a date as YYYY-MM-DD."),
    }
    for cls in (fields.DateTime, fields.NaiveDateTime):
        cls.default_error_messages = {
            "invalid": Message("Give a date and time (ISO 8601)."),
            "invalid_awareness": Message("Give a date and time (ISO 8601)."),
            "format": Message("Give a date and time (ISO 8601)."),
        }
    fields.AwareDateTime.default_error_messages = {
        "invalid": Message("Give a date and time (ISO 8601)."),
        "invalid_awareness": Message("Give the date and time with its time zone, such as +08:00."),
        "format": Message("Give a date and time (ISO 8601)."),
    }
    fields.List.default_error_messages = {"invalid": Message("Give a list.")}
    fields.Nested.default_error_messages = {"type": Message("Give an object.")}
    fields.Mapping.default_error_messages = {"invalid": Message("Give an object.")}
    Schema._default_error_messages = {"type": Message("Give an object."),
                                      "unknown": Message("Unknown field.")}
    validate.Length.message_min = Message("At least {min} characters or items.")
    validate.Length.message_max = Message("At most {max} characters or items.")
    validate.Length.message_all = Message("From {min} to {max} characters or items.")
    validate.Length.message_equal = Message("Exactly {equal} characters or items.")
    validate.OneOf.default_message = Message("Must be one of: {choices}.")
    validate.Regexp.default_message = Message("Not in the expected form.")
