"""Households (Kartu Keluarga): one family as far as the caller may see its cases."""
from __future__ import annotations

from flask import abort, g
from casemgmt.api.blueprint import Blueprint
from marshmallow import fields

from casemgmt.api.idempotency import json_response
from casemgmt.api.schemas import AnyOut
from casemgmt.cases import households

blp = Blueprint("api_households", __name__, url_prefix="/api/v1", description="Households")


class HouseholdOut(AnyOut):
    id = fields.Integer()
    kk_number = fields.String(allow_none=True)
    area_code = fields.String()
    head = fields.Dict()
    members = fields.List(fields.Dict())


def household_json(shown: households.HouseholdView) -> dict:
    """The contract's shape; the KK number, names and birth dates only as far as the caller sees
    the children (households.view)."""
    return {
        "id": shown.household.id, "kk_number": shown.kk_number, "area_code": shown.household.area_code,
        "head": {"name": shown.head_name, "sex": shown.head_sex},
        "members": [{"name": m.name, "sex": m.sex,
                     "birth_date": m.birth_date.isoformat() if m.birth_date else None,
                     "relationship": m.relationship, "case_ids": [row.id for row, _access in m.cases]}
                    for m in shown.members],
    }


@blp.route("/households/<int:household_id>", methods=["GET"])
@blp.response(200, HouseholdOut)
def get_household(household_id):
    """A household and its members; 404 unless the caller may see one of its cases, and each
    member's cases only as far as the caller may see them."""
    shown = households.view(g.api_user, household_id)
    if shown is None:
        abort(404)
    body = household_json(shown)
    households.record_view(g.api_user, shown, "api_view_household")
    return json_response(body, 200)
