"""Workflow calls of the contract: transitions, assessment, plan, actions, monitoring, approvals."""
from __future__ import annotations

from flask import abort, g
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate
from sqlalchemy.orm import lazyload

from casemgmt.access import case_or_404
from casemgmt.api.cases import case_body
from casemgmt.api.idempotency import idempotent, json_response
from casemgmt.api.schemas import Id, AnyOut, ListOut, PageQuery
from casemgmt.cases.intake import offline_recorded_at
from casemgmt.codes import SERVICES
from casemgmt.errors import Forbidden
from casemgmt.extensions import db
from casemgmt.workflow import services, triage
from casemgmt.workflow.models import Approval, PlanAction

blp = Blueprint("api_workflow", __name__, url_prefix="/api/v1", description="The SOP: transitions and approvals")


class TransitionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    name = fields.String(required=True)
    version = fields.Integer(required=True)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    data = fields.Dict(load_default=dict)


class AssessmentIn(Schema):
    risk_level = fields.String(allow_none=True, validate=validate.OneOf(["high", "medium", "low"]))
    needs = fields.List(fields.String(validate=validate.OneOf(list(SERVICES))), load_default=list)
    summary = fields.String(load_default="", validate=validate.Length(max=20000))
    # Not in the contract's body, which stays valid without it: the version the last answer gave
    # (0 before any save), for a client that wants a conflict (409) rather than an overwrite.
    version = fields.Integer(load_default=None)


class PlanActionIn(Schema):
    description = fields.String(load_default="", validate=validate.Length(max=500))
    service = fields.String(allow_none=True, validate=validate.OneOf(list(SERVICES)))
    organisation_id = Id(allow_none=True)
    due_date = fields.Date(allow_none=True)


class GoalIn(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    actions = fields.List(fields.Nested(PlanActionIn), load_default=list, validate=validate.Length(max=15))


class PlanIn(Schema):
    goals = fields.List(fields.Nested(GoalIn), required=True, validate=validate.Length(max=10))
    # The plan's (GET or the last PUT of the plan gives it), not the case's; optional as
    # AssessmentIn's: without it the plan is saved over whatever was saved since.
    version = fields.Integer(load_default=None, metadata={
        "description": "The plan's version as GET /cases/{id}/plan or the last PUT answered it (not the case's)."})


class ActionUpdateIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["done", "cancelled"]))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    done_on = fields.Date(load_default=None, allow_none=True)


class MonitoringIn(Schema):
    visited_on = fields.Date(required=True)
    progress = fields.String(required=True, validate=validate.OneOf(["improved", "same", "worse"]))
    notes = fields.String(load_default="", validate=validate.Length(max=10000))
    recorded_at = fields.AwareDateTime(load_default=None)


class ApprovalQuery(PageQuery):
    status = fields.String(validate=validate.OneOf(["pending", "approved", "rejected"]))


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


def approval_json(a: Approval) -> dict:
    return {"id": a.id, "case_id": a.case_id, "transition": a.transition,
            "requested_by": {"id": a.requested_by.id, "full_name": a.requested_by.full_name},
            "requested_at": a.requested_at.isoformat(), "status": a.status, "comment": a.comment,
            "decided_by": ({"id": a.decided_by.id, "full_name": a.decided_by.full_name} if a.decided_by else None),
            "decided_at": a.decided_at.isoformat() if a.decided_at else None,
            "decision_comment": a.decision_comment}


def action_json(a: PlanAction) -> dict:
    return {"id": a.id, "description": a.description, "service": a.service, "organisation_id": a.organisation_id,
            "due_date": a.due_date.isoformat() if a.due_date else None, "status": a.status, "note": a.note,
            "done_on": a.done_on.isoformat() if a.done_on else None, "version": a.version}


def plan_json(case) -> dict:
    """The plan with its action ids, and its version (services.plan_version) for the next save."""
    return {"goals": [{"id": g.id, "description": g.description, "actions": [action_json(a) for a in g.actions]}
                      for g in services.plan_goals(case)], "version": services.plan_version(case)}


@blp.route("/cases/<int:case_id>/transitions", methods=["GET"])
@blp.response(200, ListOut)
def list_transitions(case_id):
    """The steps defined from the case's stage: whether the caller may take them now, what is missing."""
    case, _ = case_or_404(g.api_user, case_id)
    items = [{"name": o.transition.name, "to_stage": o.transition.to_stage, "allowed": o.allowed,
              "missing": o.missing, "needs_approval": o.transition.needs_approval}
             for o in services.options(case, g.api_user)]
    return json_response({"items": items}, 200)


@blp.route("/cases/<int:case_id>/transitions", methods=["POST"])
@blp.arguments(TransitionIn)
@blp.response(200, AnyOut)
@blp.alt_response(202, schema=AnyOut, description="Waits for approval")
def take_transition(body, case_id):
    """Take a step: 200 with the moved case, or 202 with the approval it waits for."""
    user = g.api_user
    # The answer is read afresh (listing.one): the case's five joined relations and its
    # concerns are loaded only if the step reads them.
    case, _ = case_or_404(user, case_id, options=(lazyload("*"),))
    data = dict(body["data"])
    if body.get("comment") is not None:
        data["comment"] = body["comment"]
    outcome = services.apply_transition(case, body["name"], user, data, body["version"])
    if outcome.moved:  # case_id: the commit expired the case, and case.id would reload it
        return json_response(case_body(user, case_id), 200)
    return json_response({"approval": approval_json(outcome.approval)}, 202)


@blp.route("/cases/<int:case_id>/assessment", methods=["PUT"])
@blp.arguments(AssessmentIn)
@blp.response(200, AnyOut)
def put_assessment(body, case_id):
    """Save the assessment (while the case is in assessment)."""
    case, _ = case_or_404(g.api_user, case_id)
    a = services.save_assessment(case, g.api_user, body.get("risk_level"), body["needs"], body["summary"],
                                 body["version"])
    return json_response({"risk_level": a.risk_level, "needs": a.needs, "summary": a.summary, "version": a.version}, 200)


@blp.route("/cases/<int:case_id>/plan", methods=["GET"])
@blp.response(200, AnyOut)
def get_plan(case_id):
    """The plan with its action ids and its ``version``, which a PUT of the plan sends back."""
    case, access = case_or_404(g.api_user, case_id)
    if not access.details:
        raise Forbidden()
    return json_response(plan_json(case), 200)


@blp.route("/cases/<int:case_id>/plan", methods=["PUT"])
@blp.arguments(PlanIn)
@blp.response(200, AnyOut)
def put_plan(body, case_id):
    """Replace the plan's goals and open actions (while planning); answers the plan with action ids."""
    case, _ = case_or_404(g.api_user, case_id)
    services.save_plan(case, g.api_user, body["goals"], body["version"])
    return json_response(plan_json(case), 200)


@blp.route("/cases/<int:case_id>/actions/<int:action_id>", methods=["POST"])
@blp.arguments(ActionUpdateIn)
@blp.response(200, AnyOut)
def post_action(body, case_id, action_id):
    """Mark a plan action done or cancelled."""
    case, _ = case_or_404(g.api_user, case_id)
    action = db.session.get(PlanAction, action_id)
    if action is None or action.case_id != case.id:
        abort(404)
    services.update_action(case, action, g.api_user, body["status"], body.get("note"), body.get("done_on"))
    return json_response(action_json(action), 200)


@blp.route("/cases/<int:case_id>/monitoring", methods=["POST"])
@blp.arguments(MonitoringIn)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
@blp.response(201, AnyOut)
def post_monitoring(body, case_id):
    """Record a monitoring visit; the next one falls due at the interval of the case's risk.
    `recorded_at`: when a phone recorded it offline."""
    case, _ = case_or_404(g.api_user, case_id)

    def produce():
        visit = services.record_visit(case, g.api_user, body["visited_on"], body["progress"], body["notes"],
                                      recorded_at=offline_recorded_at(body["recorded_at"]))
        return {"id": visit.id, "visited_on": visit.visited_on.isoformat(), "progress": visit.progress,
                "notes": visit.notes, "case_due_at": case.due_at.isoformat() if case.due_at else None}, 201

    return idempotent(g.api_user, f"monitoring:{case_id}", produce)


@blp.route("/approvals", methods=["GET"])
@blp.arguments(ApprovalQuery, location="query")
@blp.response(200, ListOut)
def list_approvals(query):
    """Approvals the caller may see: a coordinator's district's, a worker's own requests."""
    rows, next_cursor = triage.approvals_page(g.api_user, query.get("status"), limit=query["limit"],
                                                cursor=query.get("cursor"))
    return json_response({"items": [approval_json(a) for a in rows], "next_cursor": next_cursor}, 200)


@blp.route("/approvals/<int:approval_id>", methods=["POST"])
@blp.arguments(DecisionIn)
@blp.response(200, AnyOut)
def decide(body, approval_id):
    """Approve (the case moves on) or reject (it stays; the comment goes back). Not on your own request."""
    approval = db.session.get(Approval, approval_id)
    if approval is None:
        abort(404)
    case_or_404(g.api_user, approval.case_id)
    if g.api_user.role != "coordinator" and approval.requested_by_id != g.api_user.id:
        raise Forbidden()
    services.decide_approval(approval, g.api_user, body["decision"], body.get("comment"))
    return json_response(approval_json(approval), 200)
