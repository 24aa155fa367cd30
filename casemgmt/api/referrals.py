"""Referral calls of the contract: suggestions, make, inbox/outbox, answer, cancel, the letter."""
from __future__ import annotations

from flask import Response, g
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from casemgmt.access import case_or_404, referral_or_404
from casemgmt.api.idempotency import idempotent, json_response
from casemgmt.api.schemas import Id, AnyOut, ListOut, PageQuery, QuerySchema
from casemgmt.codes import SERVICES
from casemgmt.dbtypes import utcnow
from casemgmt.referrals import letters, services
from casemgmt.referrals.models import CONSENT_GIVERS, STATUSES, URGENCIES
from casemgmt.referrals.routing import suggest_destinations

blp = Blueprint("api_referrals", __name__, url_prefix="/api/v1", description="Referrals")


class ConsentIn(Schema):
    given_by = fields.String(required=True, validate=validate.OneOf(CONSENT_GIVERS))
    recorded_on = fields.Date(required=True)


class OverrideIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class ReferralIn(Schema):
    class Meta:
        unknown = EXCLUDE

    to_organisation_id = Id(required=True)
    service = fields.String(required=True, validate=validate.OneOf(list(SERVICES)))
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    urgency = fields.String(load_default="normal", validate=validate.OneOf(URGENCIES))
    consent = fields.Nested(ConsentIn, load_default=None, allow_none=True)
    consent_override = fields.Nested(OverrideIn, load_default=None, allow_none=True)
    plan_action_id = Id(load_default=None, allow_none=True)


class SuggestionQuery(QuerySchema):
    service = fields.String(required=True, validate=validate.OneOf(list(SERVICES)))


class BoxQuery(PageQuery):
    box = fields.String(load_default="inbox", validate=validate.OneOf(["inbox", "outbox"]))
    status = fields.String(validate=validate.OneOf(STATUSES))


class VersionIn(Schema):
    class Meta:
        unknown = EXCLUDE

    version = fields.Integer(load_default=None, allow_none=True)


class DeclineIn(VersionIn):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class CompleteIn(VersionIn):
    outcome = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    delivered_on = fields.Date(required=True)


def org_ref(org) -> dict:
    return {"id": org.id, "name": org.name, "kind": org.kind}


def referral_json(r, now=None) -> dict:
    now = now or utcnow()
    return {"id": r.id, "reference": r.reference, "case_id": r.case_id, "from_organisation": org_ref(r.from_organisation),
            "to_organisation": org_ref(r.to_organisation), "service": r.service, "reason": r.reason,
            "urgency": r.urgency, "status": r.status, "respond_by": r.respond_by.isoformat(), "overdue": r.overdue(now),
            "created_at": r.created_at.isoformat(),
            "responded_at": r.responded_at.isoformat() if r.responded_at else None,
            "outcome": r.outcome, "delivered_on": r.delivered_on.isoformat() if r.delivered_on else None,
            "decline_reason": r.decline_reason, "cancel_reason": r.cancel_reason,
            "plan_action_id": r.plan_action_id, "parent_referral_id": r.parent_referral_id,
            "consent": ({"given_by": r.consent_given_by, "recorded_on": r.consent_recorded_on.isoformat()}
                        if r.consent_given_by else None),
            "consent_override": {"reason": r.consent_override_reason} if r.consent_override_reason else None,
            "version": r.version}


@blp.route("/cases/<int:case_id>/referral-suggestions", methods=["GET"])
@blp.arguments(SuggestionQuery, location="query")
@blp.response(200, ListOut)
def suggestions(query, case_id):
    """Where to refer for a service: along the pathway, nearest coverage first, with the reason."""
    case, access = case_or_404(g.api_user, case_id)
    if not access.details:
        from casemgmt.errors import Forbidden

        raise Forbidden()
    items = [{"organisation": {**org_ref(s.organisation), "area_code": s.organisation.area_code}, "reason": s.reason}
             for s in suggest_destinations(case, query["service"], g.api_user.organisation_id)]
    return json_response({"items": items}, 200)


@blp.route("/cases/<int:case_id>/referrals", methods=["POST"])
@blp.arguments(ReferralIn)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
@blp.response(201, AnyOut)
def make(body, case_id):
    """Refer the case. Send `consent`, or a coordinator's `consent_override` with its reason."""
    user = g.api_user
    case, _ = case_or_404(user, case_id)

    def produce():
        referral = services.make_referral(
            case, user, to_organisation_id=body["to_organisation_id"], service=body["service"],
            reason=body["reason"], urgency=body["urgency"], consent=body.get("consent"),
            consent_override=body.get("consent_override"), plan_action_id=body.get("plan_action_id"))
        return referral_json(referral), 201

    return idempotent(user, f"make_referral:{case_id}", produce)


@blp.route("/referrals", methods=["GET"])
@blp.arguments(BoxQuery, location="query")
@blp.response(200, ListOut)
def box(query):
    """The inbox (to the caller's organisation) or outbox (from it), a page at a time: unanswered
    ones first by answer deadline, then the rest newest first."""
    rows, next_cursor = services.box(g.api_user, query["box"], query.get("status"), limit=query["limit"],
                                     cursor=query.get("cursor"))
    now = utcnow()
    return json_response({"items": [referral_json(r, now) for r in rows], "next_cursor": next_cursor}, 200)


@blp.route("/referrals/<int:referral_id>", methods=["GET"])
@blp.response(200, AnyOut)
def get_referral(referral_id):
    referral, _case, _access = referral_or_404(g.api_user, referral_id)
    return json_response(referral_json(referral), 200)


def _answer(referral_id, call, *args):
    referral, _case, _access = referral_or_404(g.api_user, referral_id)
    call(referral, g.api_user, *args)
    return json_response(referral_json(referral), 200)


@blp.route("/referrals/<int:referral_id>/accept", methods=["POST"])
@blp.arguments(VersionIn)
@blp.response(200, AnyOut)
def accept(body, referral_id):
    """The receiving organisation accepts (409 from any status but sent)."""
    return _answer(referral_id, services.accept, body.get("version"))


@blp.route("/referrals/<int:referral_id>/decline", methods=["POST"])
@blp.arguments(DeclineIn)
@blp.response(200, AnyOut)
def decline(body, referral_id):
    return _answer(referral_id, services.decline, body["reason"], body.get("version"))


@blp.route("/referrals/<int:referral_id>/complete", methods=["POST"])
@blp.arguments(CompleteIn)
@blp.response(200, AnyOut)
def complete(body, referral_id):
    """The service was given; a referral made from a plan action completes the action too."""
    return _answer(referral_id, services.complete, body["outcome"], body["delivered_on"], body.get("version"))


@blp.route("/referrals/<int:referral_id>/cancel", methods=["POST"])
@blp.arguments(DeclineIn)
@blp.response(200, AnyOut)
def cancel(body, referral_id):
    """The sender withdraws the referral while it is sent or accepted."""
    return _answer(referral_id, services.cancel, body["reason"], body.get("version"))


@blp.route("/referrals/<int:referral_id>/letter.pdf", methods=["GET"])
@blp.response(200, content_type="application/pdf", description="A4 PDF")
def letter(referral_id):
    """The Surat Rujukan (A4 PDF)."""
    referral, case, access = referral_or_404(g.api_user, referral_id)
    return Response(letters.referral_letter(referral, case, access, g.api_user), mimetype="application/pdf")


