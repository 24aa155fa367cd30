"""What the installable app keeps on the phone to work without a signal: GET /me/offline-bundle."""
from __future__ import annotations

from flask import g
from casemgmt.api.blueprint import Blueprint

from casemgmt.access import case_accesses, offline_cases
from casemgmt.api.idempotency import json_response
from casemgmt.api.schemas import AnyOut
from casemgmt.cases import listing, records
from casemgmt.cases.identity import initials
from casemgmt.codes import CONCERNS, SPECIAL_PROTECTION
from casemgmt.dbtypes import utcnow
from casemgmt.directory.services import villages_near

blp = Blueprint("api_offline", __name__, url_prefix="/api/v1", description="Offline clients")

# A social worker's open caseload is some tens of cases; the bundle stops at this many.
MOST_CASES = 300


def _iso(value):
    return value.isoformat() if value is not None else None


def _bundle_cases(user) -> list[dict]:
    """Social workers: their open assigned cases, with the child as they may see it. Village
    workers: the status of the complaints they registered. Nobody else takes cases offline."""
    kind = offline_cases(user)
    if kind == "assigned":
        filters = records.CaseFilters(status="open", assigned_to_me=True)
    elif kind == "registered":
        filters = records.CaseFilters()
    else:
        return []
    rows, cursor = [], None
    while len(rows) < MOST_CASES:
        page, cursor = records.list_cases(user, filters, limit=100, cursor=cursor, shape=listing.FULL)
        rows += page
        if cursor is None:
            break
    rows = rows[:MOST_CASES]
    accesses = case_accesses(user, rows)
    out = []
    for row in rows:
        access = accesses[row.id]
        item = {"id": row.id, "number": row.number, "stage": row.stage, "status": row.status,
                "due_at": _iso(row.due_at), "version": row.version}
        if kind == "assigned" and access.edit:
            child = {"name": row.child_name if access.identity else initials(row.child_name), "sex": row.child_sex}
            if access.identity:
                child.update({"birth_date": _iso(row.child_birth_date), "nik": row.child_nik,
                              "area_code": row.child_area_code, "address": row.child_address,
                              "caregiver_name": row.child_caregiver_name,
                              "caregiver_relationship": row.child_caregiver_relationship,
                              "caregiver_phone": row.child_caregiver_phone})
            item["child"] = child
        out.append(item)
    return out


@blp.route("/me/offline-bundle", methods=["GET"])
@blp.response(200, AnyOut)
def offline_bundle():
    """The villages and kecamatan the caller works in, the concern codes, and the cases the caller
    takes offline (social workers: open assigned cases; village workers: their complaints' status).
    Never the sensitive details, the reporter or the narrative."""
    user = g.api_user
    areas = []
    for kecamatan, villages in villages_near(user.area_code):
        areas.append({"code": kecamatan.code, "name": kecamatan.display_name, "level": kecamatan.level})
        areas += [{"code": v.code, "name": v.display_name, "level": v.level, "parent": kecamatan.code}
                  for v in villages]
    concerns = [{"code": code, "label": str(label),
                 "group": "special_protection" if code in SPECIAL_PROTECTION else "welfare"}
                for code, label in CONCERNS.items()]
    cases = _bundle_cases(user)
    return json_response({"generated_at": utcnow().isoformat(), "areas": areas, "concerns": concerns,
                          "cases": cases}, 200)
