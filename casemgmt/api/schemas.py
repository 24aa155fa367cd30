"""Shapes of the API's bodies (marshmallow), shared by the endpoints and the OpenAPI document."""
from __future__ import annotations

from marshmallow import EXCLUDE, INCLUDE, Schema, fields, validate

from casemgmt import paging
from casemgmt.api.messages import BETWEEN
from casemgmt.codes import ORGANISATION_KINDS, ROLES, SERVICES
from casemgmt.dbtypes import MAX_ID


def between(low: int, high: int) -> validate.Range:
    """A range of whole numbers, both ends allowed, its message translated (api.messages.BETWEEN:
    validate.Range's own would answer in English)."""
    return validate.Range(low, high, error=BETWEEN)


def Id(**kwargs):  # noqa: N802 - reads like a field class
    """A record id in a request body: a whole number the database can hold."""
    return fields.Integer(strict=True, validate=between(1, MAX_ID), **kwargs)


class OutSchema(Schema):
    """An answer's documented shape; answers may carry more fields than listed (the contract allows it)."""

    class Meta:
        unknown = INCLUDE


class ErrorBody(OutSchema):
    code = fields.String(required=True)
    message = fields.String(required=True)
    details = fields.Dict(required=True)


class ErrorSchema(OutSchema):
    """Every error answer: {"error": {"code", "message", "details"}}."""

    error = fields.Nested(ErrorBody, required=True)


class ListOut(OutSchema):
    items = fields.List(fields.Dict(), required=True)
    next_cursor = fields.String(allow_none=True)


class AnyOut(OutSchema):
    """An object answer whose fields the contract lists in prose (../shared/API.md)."""


class QuerySchema(Schema):
    class Meta:
        unknown = EXCLUDE  # clients may add cache-busting parameters


class PageQuery(QuerySchema):
    """A keyset-paged list's parameters (../shared/API.md, Lists): ``limit`` 25 by default, at most
    100; ``cursor``, the previous page's next_cursor."""

    limit = fields.Integer(load_default=25, validate=between(1, 100))
    cursor = fields.String(validate=validate.Length(max=paging.MAX_LENGTH))


class OrganisationRefSchema(OutSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String(validate=validate.OneOf(list(ORGANISATION_KINDS)))


class MeSchema(OutSchema):
    id = fields.Integer()
    username = fields.String()
    full_name = fields.String()
    role = fields.String(validate=validate.OneOf(list(ROLES)))
    organisation = fields.Nested(OrganisationRefSchema, allow_none=True)
    area_code = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True, metadata={"description": "E.164, +62..."})
    language = fields.String(allow_none=True, validate=validate.OneOf(["id", "en"]))


class MePatchSchema(Schema):
    """Any of the caller's own contact fields; null or "" clears the address or number."""

    class Meta:
        unknown = EXCLUDE

    email = fields.String(allow_none=True, validate=validate.Length(max=320))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40),
                          metadata={"description": "an Indonesian number in any usual writing; kept as +62..."})
    language = fields.String(allow_none=True, metadata={"description": "id or en; null for the default"})


class TokenRequestSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(min=1, max=60))
    password = fields.String(required=True, validate=validate.Length(min=1, max=200), load_only=True)
    totp = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=10), load_only=True)


class TokenSchema(OutSchema):
    token = fields.String()
    expires_at = fields.DateTime()
    user = fields.Nested(MeSchema)


class AreaSchema(OutSchema):
    code = fields.String()
    name = fields.String()
    level = fields.String(validate=validate.OneOf(["province", "regency", "district", "village"]))


class AreaListSchema(OutSchema):
    items = fields.List(fields.Nested(AreaSchema))
    next_cursor = fields.String(allow_none=True)


class AreaQuerySchema(QuerySchema):
    parent = fields.String(validate=validate.Regexp(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$"))


class OrganisationSchema(OutSchema):
    id = fields.Integer()
    name = fields.String()
    kind = fields.String()
    area_code = fields.String()
    services = fields.List(fields.String())
    covers = fields.List(fields.String(), attribute="covered_area_codes")
    phone = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    version = fields.Integer()


class OrganisationListSchema(OutSchema):
    items = fields.List(fields.Nested(OrganisationSchema))
    next_cursor = fields.String(allow_none=True)


class OrganisationQuerySchema(QuerySchema):
    kind = fields.String(validate=validate.OneOf(list(ORGANISATION_KINDS)))
    service = fields.String(validate=validate.OneOf(list(SERVICES)))
    area_code = fields.String(validate=validate.Regexp(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$"))


def me(user) -> dict:
    org = user.organisation
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "role": user.role,
        "organisation": {"id": org.id, "name": org.name, "kind": org.kind} if org else None,
        "area_code": user.area_code,
        "email": user.email,
        "phone": user.phone,
        "language": user.language,
    }
