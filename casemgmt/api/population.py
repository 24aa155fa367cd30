"""Population data and outreach calls of the contract: imports, the outreach list and summary,
an outreach row's status and its case."""
from __future__ import annotations

from flask import g, request
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from casemgmt.api.idempotency import json_response
from casemgmt.api.schemas import AnyOut, ListOut, PageQuery, QuerySchema
from casemgmt.codes import CONCERNS
from casemgmt.population import services
from casemgmt.population.models import OUTREACH_STATUSES
from casemgmt.population.rules import RULE_NAMES

blp = Blueprint("api_population", __name__, url_prefix="/api/v1", description="Population data and outreach")

AREA = validate.Regexp(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


@blp.route("/population/imports", methods=["POST"])
@blp.response(202, AnyOut)
def start_import():
    """Upload a district's extract (multipart ``file``, ``area_code``): coordinators and admins of
    that district. The import runs in the background; follow it with GET .../{id}."""
    job = services.start_import(g.api_user, request.files.get("file"), request.form.get("area_code"))
    return json_response({"id": job.id, "status": job.status}, 202)


@blp.route("/population/imports/<int:import_id>", methods=["GET"])
@blp.response(200, AnyOut)
def get_import(import_id):
    return json_response(services.import_json(services.import_of(g.api_user, import_id)), 200)


class OutreachQuery(PageQuery):
    rule = fields.String(validate=validate.OneOf(RULE_NAMES))
    area_code = fields.String(validate=AREA)
    status = fields.String(validate=validate.OneOf(OUTREACH_STATUSES))


@blp.route("/outreach", methods=["GET"])
@blp.arguments(OutreachQuery, location="query")
@blp.response(200, ListOut)
def outreach_list(query):
    """A coordinator's district's outreach rows, a village worker's own village's."""
    filters = services.OutreachFilters(query.get("rule"), query.get("area_code"), query.get("status"))
    rows, next_cursor = services.outreach_page(g.api_user, filters, query["limit"], query.get("cursor"))
    return json_response({"items": [services.outreach_json(row) for row in rows], "next_cursor": next_cursor}, 200)


class SummaryQuery(QuerySchema):
    area_code = fields.String(validate=AREA)


@blp.route("/outreach/summary", methods=["GET"])
@blp.arguments(SummaryQuery, location="query")
@blp.response(200, AnyOut)
def outreach_summary(query):
    """Counts per village and rule; analysts see counts of 1 to 4 as "<5"."""
    return json_response(services.summary(g.api_user, query.get("area_code")), 200)


class StatusIn(Schema):
    class Meta:
        unknown = EXCLUDE

    status = fields.String(required=True, validate=validate.OneOf(OUTREACH_STATUSES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


def _item_json(item) -> dict:
    from casemgmt.extensions import db
    from casemgmt.population.models import PopulationPerson

    person = db.session.get(PopulationPerson, item.person_id)
    return {"id": item.id, "rule": item.rule, "name": person.name, "sex": person.sex,
            "birth_date": person.birth_date.isoformat(), "area_code": item.area_code,
            "kk_number": person.kk_number, "status": item.status, "case_id": item.case_id}


@blp.route("/outreach/<int:item_id>/status", methods=["POST"])
@blp.arguments(StatusIn)
@blp.response(200, AnyOut)
def outreach_status(body, item_id):
    item = services.outreach_or_404(g.api_user, item_id)
    services.set_status(g.api_user, item, body["status"], body.get("note"))
    return json_response(_item_json(item), 200)


class CaseIn(Schema):
    class Meta:
        unknown = EXCLUDE

    concerns = fields.List(fields.String(validate=validate.OneOf(list(CONCERNS))), required=True,
                           validate=validate.Length(min=1, max=20))
    description = fields.String(required=True, validate=validate.Length(min=1, max=5000))


@blp.route("/outreach/<int:item_id>/case", methods=["POST"])
@blp.arguments(CaseIn)
@blp.response(201, AnyOut)
def outreach_case(body, item_id):
    """A case in stage report, channel outreach, for the row's child, linked to the row."""
    item = services.outreach_or_404(g.api_user, item_id)
    from casemgmt.access import case_access
    from casemgmt.api.cases import case_json
    from casemgmt.cases import listing

    case = services.open_case(g.api_user, item, body["concerns"], body["description"])
    return json_response({**case_json(listing.one(case.id), case_access(g.api_user, case)),
                          "outreach_id": item.id}, 201)
