"""Conference and task calls of the contract."""
from __future__ import annotations

from flask import Response, abort, g
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from casemgmt.access import may_view_conference
from casemgmt.home.tasks import my_tasks
from casemgmt.api.idempotency import idempotent, json_response
from casemgmt.api.schemas import Id, AnyOut, ListOut, PageQuery
from casemgmt.conferences import minutes, services
from casemgmt.conferences.models import CaseConference
from casemgmt.extensions import db

blp = Blueprint("api_conferences", __name__, url_prefix="/api/v1", description="Case conferences and tasks")


class ConferenceIn(Schema):
    class Meta:
        unknown = EXCLUDE

    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    scheduled_at = fields.AwareDateTime(required=True)
    area_code = fields.String(required=True, validate=validate.Regexp(r"^\d{2}\.\d{2}"))
    location = fields.String(load_default="", validate=validate.Length(max=300))
    case_ids = fields.List(Id(), load_default=list)
    organisation_ids = fields.List(Id(), load_default=list)


class AttendeeIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    organisation_id = Id(load_default=None, allow_none=True)
    sex = fields.String(required=True, validate=validate.OneOf(["F", "M"]))


class AttendanceIn(Schema):
    attendees = fields.List(fields.Nested(AttendeeIn), required=True, validate=validate.Length(max=200))


class ConferenceActionIn(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=500))
    owner_organisation_id = Id(required=True)
    owner_user_id = Id(load_default=None, allow_none=True)
    due_date = fields.Date(required=True)


class ConferenceDecisionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    case_id = Id(required=True)
    summary = fields.String(required=True, validate=validate.Length(min=1, max=20000))
    actions = fields.List(fields.Nested(ConferenceActionIn), load_default=list, validate=validate.Length(max=30))
    approve_approval_id = Id(load_default=None, allow_none=True)


class TaskQuery(PageQuery):
    mine = fields.Boolean(load_default=True)


def conference_json(conf: CaseConference) -> dict:
    totals = services.totals_by_sex(conf)
    return {"id": conf.id, "title": conf.title, "scheduled_at": conf.scheduled_at.isoformat(),
            "area_code": conf.district_code, "location": conf.location, "status": conf.status,
            "case_ids": [row.case_id for row in conf.agenda],
            "organisation_ids": [row.organisation_id for row in conf.invited],
            "attendees": [{"name": a.name, "organisation_id": a.organisation_id, "sex": a.sex} for a in conf.attendees],
            "attendance_totals": {"female": totals["F"], "male": totals["M"], "total": totals["total"]},
            "closed_at": conf.closed_at.isoformat() if conf.closed_at else None, "version": conf.version}


def _conference(conference_id: int) -> CaseConference:
    conf = db.session.get(CaseConference, conference_id)
    if conf is None or not may_view_conference(g.api_user, conf):
        abort(404)
    return conf


@blp.route("/conferences", methods=["POST"])
@blp.arguments(ConferenceIn)
@blp.response(201, AnyOut)
def schedule(body):
    """Schedule a conference (the district's coordinator; only cases of the district)."""
    user = g.api_user

    def produce():
        conf = services.schedule(user, title=body["title"], scheduled_at=body["scheduled_at"],
                                 area_code=body["area_code"], location=body["location"], case_ids=body["case_ids"],
                                 organisation_ids=body["organisation_ids"])
        return conference_json(conf), 201

    return idempotent(user, "schedule_conference", produce)


@blp.route("/conferences/<int:conference_id>", methods=["GET"])
@blp.response(200, AnyOut)
def get_conference(conference_id):
    return json_response(conference_json(_conference(conference_id)), 200)


@blp.route("/conferences/<int:conference_id>/attendance", methods=["POST"])
@blp.arguments(AttendanceIn)
@blp.response(200, AnyOut)
def attendance(body, conference_id):
    """Replace the attendance list; 409 once the conference is closed."""
    conf = _conference(conference_id)
    services.record_attendance(conf, g.api_user, body["attendees"])
    return json_response(conference_json(conf), 200)


@blp.route("/conferences/<int:conference_id>/decisions", methods=["POST"])
@blp.arguments(ConferenceDecisionIn)
@blp.response(201, AnyOut)
def decision(body, conference_id):
    """Record a case's decisions; each action becomes a task of its owner."""
    conf = _conference(conference_id)
    d = services.add_decision(conf, g.api_user, case_id=body["case_id"], summary=body["summary"],
                              actions=body["actions"], approve_approval_id=body.get("approve_approval_id"))
    return json_response({"id": d.id, "case_id": d.case_id, "summary": d.summary, "approval_id": d.approval_id,
                          "tasks": [{"id": t.id, "description": t.description,
                                     "owner_organisation_id": t.owner_organisation_id,
                                     "owner_user_id": t.owner_user_id, "due_date": t.due_date.isoformat()}
                                    for t in d.tasks]}, 201)


@blp.route("/conferences/<int:conference_id>/close", methods=["POST"])
@blp.response(200, AnyOut)
def close(conference_id):
    """Close the conference: its record is read-only afterwards (409 on change)."""
    conf = _conference(conference_id)
    services.close(conf, g.api_user)
    return json_response(conference_json(conf), 200)


@blp.route("/conferences/<int:conference_id>/minutes.pdf", methods=["GET"])
@blp.response(200, content_type="application/pdf", description="A4 PDF")
def minutes_pdf(conference_id):
    """The Berita Acara (A4 PDF)."""
    conf = _conference(conference_id)
    return Response(minutes.render(conf, g.api_user), mimetype="application/pdf")


@blp.route("/tasks", methods=["GET"])
@blp.arguments(TaskQuery, location="query")
@blp.response(200, ListOut)
def tasks(query):
    """Stage deadlines, conference actions, referrals awaiting answer, approvals to decide; overdue first."""
    page, next_cursor = my_tasks(g.api_user, limit=query["limit"], cursor=query.get("cursor"))
    items = [{"kind": t.kind, "case_id": t.case_id, "description": t.description,
              "due_at": t.due_at.isoformat() if t.due_at else None, "overdue": t.overdue} for t in page]
    return json_response({"items": items, "next_cursor": next_cursor}, 200)
