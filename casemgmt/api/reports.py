"""GET /api/v1/indicators and GET /api/v1/kpis of the contract."""
from __future__ import annotations

from flask import g
from casemgmt.api.blueprint import Blueprint
from marshmallow import fields, validate

from casemgmt.access import indicator_area, kpi_area
from casemgmt.api.idempotency import json_response
from casemgmt.api.schemas import AnyOut, QuerySchema
from casemgmt.reports import indicators, kpis, services

blp = Blueprint("api_reports", __name__, url_prefix="/api/v1", description="Indicators")


class IndicatorQuery(QuerySchema):
    area_code = fields.String(validate=validate.Regexp(r"^\d{2}(\.\d{2})?$"))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


@blp.route("/indicators", methods=["GET"])
@blp.arguments(IndicatorQuery, location="query")
@blp.response(200, AnyOut)
def get_indicators(query):
    """A district's or the province's indicators for a period; counts under 5 are "<5" for analysts."""
    user = g.api_user
    area = indicator_area(user, query.get("area_code"))
    start, end = query.get("from_"), query.get("to")
    period = services.parse_period(start.isoformat() if start else None, end.isoformat() if end else None)
    data = indicators.for_viewer(indicators.compute(area, period), user)
    from casemgmt.population.services import coverage_indicator

    coverage = coverage_indicator(area, user)  # where population data has been imported for the area
    if coverage is not None:
        data["birth_certificate_coverage"] = coverage
    return json_response(data, 200)


@blp.route("/kpis", methods=["GET"])
@blp.arguments(IndicatorQuery, location="query")
@blp.response(200, AnyOut)
def get_kpis(query):
    """A district's or the province's management indicators for a period; workers by name for the
    district's coordinator only, counts under 5 "<5" for analysts."""
    user = g.api_user
    area = kpi_area(user, query.get("area_code"))
    start, end = query.get("from_"), query.get("to")
    period = services.parse_period(start.isoformat() if start else None, end.isoformat() if end else None)
    return json_response(kpis.for_api(kpis.compute(area, period), user), 200)
