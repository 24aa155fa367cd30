"""Transfers and reassignment calls of the contract: ask another district to take a case over,
accept or decline, and hand a worker's open cases to another."""
from __future__ import annotations

from flask import g
from casemgmt.api.blueprint import Blueprint
from marshmallow import EXCLUDE, Schema, fields, validate

from casemgmt.access import case_or_404
from casemgmt.api.idempotency import idempotent, json_response
from casemgmt.api.schemas import AnyOut, Id, ListOut
from casemgmt.errors import StaleVersion
from casemgmt.transfers import caseload, services

blp = Blueprint("api_transfers", __name__, url_prefix="/api/v1", description="Transfers and reassignment")

TEXT = validate.Length(min=1, max=2000)


class TransferIn(Schema):
    class Meta:
        unknown = EXCLUDE

    to_organisation_id = Id(required=True)
    reason = fields.String(required=True, validate=TEXT)
    version = fields.Integer(load_default=None, allow_none=True)  # the case's, when sent


class TransferAcceptIn(Schema):
    class Meta:
        unknown = EXCLUDE

    assigned_worker_id = Id(required=True)
    version = fields.Integer(load_default=None, allow_none=True)
    # The case's referrals still open that the receiving district cancels; the others are kept.
    cancel_referral_ids = fields.List(Id(), load_default=list)


class TransferDeclineIn(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=TEXT)
    version = fields.Integer(load_default=None, allow_none=True)


class TransferCancelIn(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))
    version = fields.Integer(load_default=None, allow_none=True)


class ReassignIn(Schema):
    class Meta:
        unknown = EXCLUDE

    from_worker_id = Id(required=True)
    to_worker_id = Id(required=True)
    case_ids = fields.List(Id(), load_default=None, validate=validate.Length(min=1, max=100000))
    reason = fields.String(required=True, validate=TEXT)


def _iso(value):
    return value.isoformat() if value is not None else None


def _person(user):
    return {"id": user.id, "full_name": user.full_name} if user is not None else None


def transfer_json(t, user) -> dict:
    body = {"id": t.id, "case_id": t.case_id, "case_number": services.case_number(t),
            "from_organisation": {"id": t.from_organisation.id, "name": t.from_organisation.name},
            "to_organisation": {"id": t.to_organisation.id, "name": t.to_organisation.name},
            "reason": t.reason, "status": t.status, "requested_by": _person(t.requested_by),
            "requested_at": _iso(t.requested_at), "decided_at": _iso(t.decided_at),
            "decline_reason": t.decline_reason, "assigned_worker": _person(t.assigned_worker),
            "transferred_at": _iso(t.transferred_at), "version": t.version}
    if "accept" in services.transfer_actions(user, t):
        # What the receiver decides on: the case's referrals still open (keep or cancel).
        body["open_referrals"] = [{"id": r.id, "reference": r.reference, "service": r.service, "status": r.status,
                                   "to_organisation": {"id": r.to_organisation.id, "name": r.to_organisation.name}}
                                  for r in services.open_referrals(services.case_of(t))]
    return body


# The fields a transfer's answer changes: what a stale client missed.
_ANSWER_FIELDS = ("status", "decided_at", "decline_reason", "assigned_worker", "transferred_at")


def _answer(transfer_id, call, *args, **kwargs):
    user = g.api_user
    transfer = services.transfer_or_404(user, transfer_id)
    try:
        call(transfer, user, *args, **kwargs)
    except StaleVersion as exc:
        current = transfer_json(transfer, user)
        exc.details.update({"current": current,
                            "changed_fields": [f for f in _ANSWER_FIELDS if current[f] not in (None, "requested")]})
        raise
    return json_response(transfer_json(transfer, user), 200)


@blp.route("/cases/<int:case_id>/transfers", methods=["POST"])
@blp.arguments(TransferIn)
@blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}])
@blp.response(201, AnyOut)
def request_transfer(body, case_id):
    """Ask the PKSAI of another district to take the case over (the case's coordinator only)."""
    user = g.api_user
    case, _access = case_or_404(user, case_id)

    def produce():
        transfer = services.request_transfer(case, user, body["to_organisation_id"], body["reason"],
                                             body.get("version"))
        return {**transfer_json(transfer, user), "id": transfer.id, "status": transfer.status}, 201

    return idempotent(user, f"request_transfer:{case_id}", produce)


@blp.route("/transfers", methods=["GET"])
@blp.response(200, ListOut)
def incoming():
    """Transfers waiting for the caller's answer (a receiving district's coordinator)."""
    user = g.api_user
    return json_response({"items": [transfer_json(t, user) for t in services.incoming(user)],
                          "next_cursor": None}, 200)


@blp.route("/transfers/<int:transfer_id>", methods=["GET"])
@blp.response(200, AnyOut)
def get_transfer(transfer_id):
    user = g.api_user
    return json_response(transfer_json(services.transfer_or_404(user, transfer_id), user), 200)


@blp.route("/transfers/<int:transfer_id>/accept", methods=["POST"])
@blp.arguments(TransferAcceptIn)
@blp.response(200, AnyOut)
def accept(body, transfer_id):
    """Take the case over and give it to a social worker of the receiving district."""
    return _answer(transfer_id, services.accept_transfer, body["assigned_worker_id"], body.get("version"),
                   cancel_referral_ids=body["cancel_referral_ids"])


@blp.route("/transfers/<int:transfer_id>/decline", methods=["POST"])
@blp.arguments(TransferDeclineIn)
@blp.response(200, AnyOut)
def decline(body, transfer_id):
    return _answer(transfer_id, services.decline_transfer, body["reason"], body.get("version"))


@blp.route("/transfers/<int:transfer_id>/cancel", methods=["POST"])
@blp.arguments(TransferCancelIn)
@blp.response(200, AnyOut)
def cancel(body, transfer_id):
    """The sending coordinator withdraws a request not yet answered."""
    return _answer(transfer_id, services.cancel_transfer, body.get("reason"), body.get("version"))


@blp.route("/cases/reassign", methods=["POST"])
@blp.arguments(ReassignIn)
@blp.response(200, AnyOut)
def reassign(body):
    """Hand a worker's open cases (all, or `case_ids`) to another worker of the district."""
    moved = caseload.reassign_caseload(g.api_user, body["from_worker_id"], body["to_worker_id"], body["reason"],
                                       case_ids=body.get("case_ids"))
    return json_response({"moved": moved}, 200)
