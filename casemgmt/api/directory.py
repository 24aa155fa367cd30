"""Areas and organisations."""
from __future__ import annotations

from flask import abort
from casemgmt.api.blueprint import Blueprint

from casemgmt.api.schemas import AreaListSchema, AreaQuerySchema, OrganisationListSchema, OrganisationQuerySchema
from casemgmt.directory import services

blp = Blueprint("api_directory", __name__, url_prefix="/api/v1", description="Places and organisations")


@blp.route("/areas", methods=["GET"])
@blp.arguments(AreaQuerySchema, location="query")
@blp.response(200, AreaListSchema)
def areas(query):
    """Region codes under ``parent`` (a province's regencies, a regency's kecamatan, ...); no parent: provinces."""
    parent = query.get("parent")
    if parent and services.get_area(parent) is None:
        abort(404)
    return {"items": services.children(parent), "next_cursor": None}


@blp.route("/organisations", methods=["GET"])
@blp.arguments(OrganisationQuerySchema, location="query")
@blp.response(200, OrganisationListSchema)
def organisations(query):
    """Organisations by kind, service offered and area (seat or coverage within ``area_code``)."""
    rows = services.list_organisations(kind=query.get("kind"), service=query.get("service"),
                                       area_code=query.get("area_code"))
    return {"items": rows, "next_cursor": None}
