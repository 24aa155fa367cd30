"""Cases: create (with duplicates and Idempotency-Key), list, read, patch, history, notes."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from casemgmt.access import can, case_accesses, case_or_404
from casemgmt.api.idempotency import idempotent, json_response
from casemgmt.api.schemas import AnyOut, ListOut, PageQuery, between
from casemgmt.cases import households, intake, listing, records, timeline
from casemgmt.cases.identity import age_on, initials
from casemgmt.cases.models import CHANNELS, RISK_LEVELS
from casemgmt.codes import CONCERNS
from casemgmt.dbtypes import utcnow
from casemgmt.errors import Forbidden, ServiceError, StaleVersion, ValidationFailed
from casemgmt.workflow.stages import STAGE_CODES

blp = Blueprint("api_cases", __name__, url_prefix="/api/v1", description="Cases")

AREA = validate.Regexp(r"^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$")


class ReporterIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(allow_none=True, validate=validate.Length(max=120))
    phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    relationship = fields.String(allow_none=True, validate=validate.Length(max=80))
    anonymous = fields.Boolean(load_default=False)


class ChildIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(validate=validate.Length(max=120))
    sex = fields.String(validate=validate.OneOf(["F", "M"]))
    birth_date = fields.Date(allow_none=True)
    age_years = fields.Integer(allow_none=True, validate=between(0, 17))
    nik = fields.String(allow_none=True, validate=validate.Length(max=40))
    area_code = fields.String(validate=AREA)
    address = fields.String(allow_none=True, validate=validate.Length(max=500))
    caregiver_name = fields.String(allow_none=True, validate=validate.Length(max=120))
    caregiver_relationship = fields.String(allow_none=True, validate=validate.Length(max=80))
    caregiver_phone = fields.String(allow_none=True, validate=validate.Length(max=40))
    # The Kartu Keluarga: 16 digits (checked by the service, in the user's language), and the
    # child's place on it, a SIAK STAT_HBKEL code 1-11 as a number or a string.
    kk_number = fields.String(allow_none=True, validate=validate.Length(max=40))
    relationship_to_head = fields.Raw(allow_none=True, validate=lambda v: _relationship_ok(v))


def _relationship_ok(value) -> bool:
    from casemgmt.cases.households import relationship_code

    try:
        relationship_code(value)
    except ValueError:
        raise ValidationError(_("Give a relationship code from 1 to 11 (SIAK STAT_HBKEL).")) from None
    return True


class CaseCreate(Schema):
    class Meta:
        unknown = EXCLUDE

    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    received_at = fields.AwareDateTime(load_default=None)
    reporter = fields.Nested(ReporterIn, load_default=dict)
    child = fields.Nested(ChildIn)
    # Beyond the contract: the children of one complaint, each becoming a case, as the web form
    # registers them (the offline app sends a complaint about siblings as one).
    children = fields.List(fields.Nested(ChildIn), validate=validate.Length(min=1, max=10))
    concerns = fields.List(fields.String(validate=validate.OneOf(list(CONCERNS))), load_default=list)
    description = fields.String(load_default="", validate=validate.Length(max=20000))
    urgent = fields.Boolean(load_default=False)
    recorded_at = fields.AwareDateTime(load_default=None)
    # Beyond the contract: "ask" creates nothing while a child looks like an existing case and
    # answers 422 possible_duplicate listing the cases, until `decisions` says, per child index,
    # "new" or the id of the listed case it is. The offline app asks; other clients create.
    duplicates = fields.String(load_default="create", validate=validate.OneOf(["create", "ask"]))
    decisions = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    # Beyond the contract: per child index, the id of the household that "ask" offered for the
    # child's NIK (details.households of possible_duplicate) which the child is to join.
    join_households = fields.Dict(keys=fields.String(), values=fields.Integer(), load_default=dict)

    @validates_schema
    def one_way_of_naming_the_children(self, data, **kwargs):
        if ("child" in data) == ("children" in data):
            raise ValidationError(_("Send either child or children."), "child")


class CasePatch(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(required=True)
    child = fields.Nested(ChildIn)
    reporter = fields.Nested(ReporterIn)
    concerns = fields.List(fields.String(validate=validate.OneOf(list(CONCERNS))))
    description = fields.String(validate=validate.Length(max=20000))
    urgent = fields.Boolean()


class CaseQuery(PageQuery):
    stage = fields.String(validate=validate.OneOf(STAGE_CODES))
    status = fields.String(validate=validate.OneOf(["open", "closed"]))
    risk_level = fields.String(validate=validate.OneOf(RISK_LEVELS))
    area_code = fields.String(validate=AREA)
    concern = fields.String(validate=validate.OneOf(list(CONCERNS)))
    assigned = fields.String(validate=validate.OneOf(["me"]))
    overdue = fields.Boolean()
    q = fields.String(validate=validate.Length(max=200))
    # "out": the cases the caller's district transferred to another, read up to the transfer.
    transferred = fields.String(validate=validate.OneOf(["out"]))


class NoteIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=10000))
    recorded_at = fields.AwareDateTime(load_default=None)


# Documentation-only shapes of the answers (the bodies are built by case_json below).
class PersonRef(AnyOut):
    id = fields.Integer()
    full_name = fields.String()


class CaseOut(AnyOut):
    id = fields.Integer()
    number = fields.String()
    stage = fields.String()
    status = fields.String()
    risk_level = fields.String(allow_none=True)
    urgent = fields.Boolean()
    concerns = fields.List(fields.String())
    area_code = fields.String()
    child = fields.Dict()
    reporter = fields.Dict()
    assigned_worker = fields.Nested(PersonRef, allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    version = fields.Integer()
    possible_duplicates = fields.List(fields.Dict())
    household = fields.Dict(allow_none=True)


class CaseList(AnyOut):
    items = fields.List(fields.Nested(CaseOut))
    next_cursor = fields.String(allow_none=True)


def _iso(value):
    return value.isoformat() if value is not None else None


def case_json(case, access, now=None) -> dict:
    """A case (a cases.listing.CaseRow of listing.FULL) as the contract shapes it; what the
    caller may not see is absent or masked."""
    now = now or utcnow()
    body = {
        "id": case.id, "number": case.number, "stage": case.stage, "status": case.status,
        "risk_level": case.risk_level, "urgent": case.urgent, "area_code": case.area_code,
        "child": {"name": case.child_name if access.identity else initials(case.child_name), "sex": case.child_sex},
        "assigned_worker": ({"id": case.assigned_worker_id, "full_name": case.worker_name}
                            if case.assigned_worker_id else None),
        "due_at": _iso(case.due_at), "overdue": case.overdue(now), "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at), "version": case.version,
        "household": ({"id": case.household_id, "kk_number": case.household_kk if access.identity else None}
                      if case.household_id else None),
    }
    if access.until is not None:
        # A district that transferred the case out: nothing of how it stands since.
        body.update({"assigned_worker": None, "due_at": None, "overdue": False,
                     "transferred_out_at": _iso(access.until)})
    if case.child_birth_date:
        body["child"]["age_years"] = age_on(case.child_birth_date, now.date())
    if access.identity:
        body["child"].update({"birth_date": _iso(case.child_birth_date),
                              "birth_date_estimated": case.child_birth_date_estimated,
                              "nik": case.child_nik, "area_code": case.child_area_code, "address": case.child_address,
                              "caregiver_name": case.child_caregiver_name,
                              "caregiver_relationship": case.child_caregiver_relationship,
                              "caregiver_phone": case.child_caregiver_phone})
    if access.details:
        body["concerns"] = case.concerns
        body["description"] = case.description
        body["complaint_id"] = case.complaint_id
        body["channel"] = case.channel
        body["received_at"] = _iso(case.received_at)
    if access.sensitive:
        body["sensitive"] = ({"alleged_perpetrator": case.alleged_perpetrator,
                              "perpetrator_relationship": case.perpetrator_relationship,
                              "sexual_violence_details": case.sexual_violence_details,
                              "hiv_status": case.hiv_status} if case.sensitive_case_id else None)
    if access.reporter:
        body["reporter"] = {"anonymous": case.reporter_anonymous, "name": case.reporter_name,
                            "phone": case.reporter_phone, "relationship": case.reporter_relationship}
    return body


def cases_json(user, cases: list) -> list[dict]:
    """Rows of listing.FULL as the contract shapes them for ``user``, in a fixed number of queries."""
    now = utcnow()
    accesses = case_accesses(user, cases)
    return [case_json(c, accesses[c.id], now) for c in cases]


def case_body(user, case_id: int) -> dict:
    """One case, read again as it now stands after a change, for the caller (whose access the
    change may have moved)."""
    return cases_json(user, [listing.one(case_id)])[0]


def _api_errors(exc: ValidationFailed) -> ValidationFailed:
    """The service names a single child children.0.x; the API calls it child.x."""
    return ValidationFailed({k.replace("children.0.", "child."): v for k, v in exc.errors.items()})


class PossibleDuplicate(ServiceError):
    status = 422
    code = "possible_duplicate"
    default_text = _l("This child may already have a case: say whether it is the same child.")


def _ask_about_duplicates(raw: dict, decisions: dict, user) -> None:
    """PossibleDuplicate, listing the likely cases per child index, for each child that looks like
    an existing case and has no decision yet; and, under "households", the household a child of
    the same NIK belongs to, which the child may join (join_households), named by that case's
    number alone, as the web form offers it (households.household_offer)."""
    _data, checks = intake.validate_complaint(raw)
    undecided, offers = {}, {}
    for i, check in enumerate(checks):
        found = intake.find_duplicates(check.data)
        if found and str(i) not in decisions:
            undecided[str(i)] = [{"id": c.case_id, "number": c.number, "reason": c.reason,
                                  "description": c.description} for c in found]
            offer = households.household_offer(user, check.data)
            if offer is not None and offer.reason == "same_nik":
                offers[str(i)] = {"id": offer.household_id, "case_number": offer.case_numbers[0],
                                  "description": offer.description}
    if undecided:
        raise PossibleDuplicate(details={"children": undecided, **({"households": offers} if offers else {})})


def _duplicates(result, index: int) -> list[dict]:
    return [{"id": c.case_id, "number": c.number, "reason": c.reason} for c in result.duplicates.get(index, [])]


@blp.route("/cases", methods=["POST"])
@blp.arguments(CaseCreate)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
@blp.response(201, CaseOut)
def create_case(body):
    """Register a complaint about one child (or `children`, each a case): a case in stage `report`,
    with likely duplicates. `recorded_at`: when a phone recorded it offline (`received_at` defaults
    to it)."""
    user = g.api_user
    if not can(user, "cases.register"):
        raise Forbidden()

    def produce():
        children = [dict(c) for c in body["children"]] if "children" in body else [dict(body["child"])]
        recorded_at = intake.offline_recorded_at(body["recorded_at"])
        # A complaint written down offline came in no later than it was written down.
        raw = {"channel": body["channel"], "received_at": body["received_at"] or recorded_at,
               "reporter": body["reporter"], "children": children, "concerns": body["concerns"],
               "description": body["description"], "urgent": body["urgent"]}
        decisions = {i: body["decisions"].get(str(i), "new") for i in range(len(children))}
        try:
            if body["duplicates"] == "ask":
                _ask_about_duplicates(raw, body["decisions"], user)
            joins = {int(i): household_id for i, household_id in body["join_households"].items() if i.isdigit()}
            result = intake.register_complaint(raw, user, decisions, recorded_at=recorded_at, join_households=joins)
        except ValidationFailed as exc:
            raise (_api_errors(exc) if "child" in body else exc) from None
        if not result.case_ids:  # each child was said to be a case already: the complaint is linked to it
            return {"complaint_id": result.complaint.id, "cases": [], "linked": result.linked_numbers}, 201
        out = case_body(user, result.case_ids[0])
        out["possible_duplicates"] = _duplicates(result, 0)
        if "children" in body:
            out["cases"] = [{"id": case_id, "number": number, "possible_duplicates": _duplicates(result, i)}
                            for i, (case_id, number) in enumerate(zip(result.case_ids, result.numbers))]
        return out, 201

    return idempotent(user, "create_case", produce)


@blp.route("/cases", methods=["GET"])
@blp.arguments(CaseQuery, location="query")
@blp.response(200, CaseList)
def list_cases(query):
    """Cases in the caller's scope, newest first; `area_code` is a prefix (73.06 = all of Gowa)."""
    user = g.api_user
    filters = records.CaseFilters(stage=query.get("stage"), status=query.get("status"),
                                   risk_level=query.get("risk_level"), area_code=query.get("area_code"),
                                   concern=query.get("concern"), assigned_to_me=query.get("assigned") == "me",
                                   overdue=bool(query.get("overdue")), q=query.get("q"),
                                   transferred_out=query.get("transferred") == "out")
    cases, next_cursor = records.list_cases(user, filters, limit=query["limit"], cursor=query.get("cursor"),
                                             shape=listing.FULL)
    return json_response({"items": cases_json(user, cases), "next_cursor": next_cursor}, 200)


@blp.route("/cases/<int:case_id>", methods=["GET"])
@blp.response(200, CaseOut)
def get_case(case_id):
    """One case; 404 when it is outside the caller's scope."""
    case, access = case_or_404(g.api_user, case_id)
    records.record_view(g.api_user, case, "api_view_case")
    # case_id, not case.id: record_view committed, and reading the expired case reloaded it.
    return json_response(case_json(listing.one(case_id), access), 200)


@blp.route("/cases/<int:case_id>", methods=["PATCH"])
@blp.arguments(CasePatch)
@blp.response(200, CaseOut)
def patch_case(body, case_id):
    """Change the record; send the `version` you read, 409 `stale_version` if someone saved first."""
    user = g.api_user
    case, _access = case_or_404(user, case_id)
    changes = {}
    for name, value in (body.get("child") or {}).items():
        if name == "age_years":
            continue
        changes[f"child.{name}"] = value.isoformat() if hasattr(value, "isoformat") else value
    for name, value in (body.get("reporter") or {}).items():
        changes["complaint.reporter_anonymous" if name == "anonymous" else f"complaint.reporter_{name}"] = value
    if "concerns" in body:
        changes["case.concerns"] = sorted(set(body["concerns"]))
    if "description" in body:
        changes["complaint.description"] = body["description"]
    if "urgent" in body:
        changes["case.urgent"] = body["urgent"]
    try:
        records.update_case(case, changes, body["version"], user)
    except StaleVersion as exc:
        # What an offline client needs to show both values side by side: the record as it is now
        # (as the caller may see it) and the fields changed since the version it sent.
        changed = {_API_FIELDS.get(k, k) for change in exc.details.get("changes_since", [])
                   for k in change["changes"]}
        exc.details.update({"current": case_body(user, case_id), "changed_fields": sorted(changed)})
        raise
    return json_response(case_body(user, case_id), 200)


# The record's fields as PATCH names them (records.case_snapshot's keys otherwise).
_API_FIELDS = {"complaint.reporter_name": "reporter.name", "complaint.reporter_phone": "reporter.phone",
               "complaint.reporter_relationship": "reporter.relationship",
               "complaint.reporter_anonymous": "reporter.anonymous", "case.concerns": "concerns",
               "complaint.description": "description", "case.urgent": "urgent"}


@blp.route("/cases/<int:case_id>/history", methods=["GET"])
@blp.response(200, ListOut)
def history(case_id):
    """Everything that happened to the case, oldest first."""
    user = g.api_user
    case, access = case_or_404(user, case_id)
    if not access.details:
        raise Forbidden()
    items = [{"at": _iso(e.at), "actor": {"id": e.actor.id, "full_name": e.actor.full_name} if e.actor else None,
              "action": e.kind, "from_stage": e.from_stage, "to_stage": e.to_stage, "comment": e.comment}
             for e in timeline.timeline(case, newest_first=False, until=access.until)]
    return json_response({"items": items, "next_cursor": None}, 200)


@blp.route("/cases/<int:case_id>/notes", methods=["POST"])
@blp.arguments(NoteIn)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
@blp.response(201, AnyOut)
def add_note(body, case_id):
    """Add a note to the case's timeline."""
    user = g.api_user
    case, _access = case_or_404(user, case_id)

    def produce():
        event = records.add_note(case, body["text"], user,
                                 recorded_at=intake.offline_recorded_at(body.get("recorded_at")))
        return {"id": event.id, "at": _iso(event.at), "text": event.comment}, 201

    return idempotent(user, f"add_note:{case_id}", produce)




@blp.route("/cases/<int:case_id>/summary.pdf", methods=["GET"])
@blp.response(200, content_type="application/pdf", description="A4 PDF")
def summary_pdf(case_id):
    """The case summary (A4 PDF), masked as the case page is for the caller."""
    from flask import Response

    from casemgmt.cases.summary import render

    case, access = case_or_404(g.api_user, case_id)
    return Response(render(case, access, g.api_user), mimetype="application/pdf")
