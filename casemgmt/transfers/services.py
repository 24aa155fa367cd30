"""Transfers between districts: asked by the coordinator of the case's district, accepted (with a
worker) or declined by the receiving PKSAI. Until accepted the sender holds the case; on
acceptance the case moves to the receiving district's scope with its whole history, and the
sender keeps read access to what happened before the transfer (access.case_access)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from casemgmt.access import (
    coordinates,
    coordinators_of,
    district_of,
    may_request_transfer,
    receives_transfer,
    sent_transfer,
    transfer_actions,
)
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case
from casemgmt.cases.timeline import add_event
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Organisation
from casemgmt.errors import Forbidden, ServiceError, ValidationFailed, check_version
from casemgmt.extensions import db
from casemgmt.forms import id_or_none
from casemgmt.notify import events
from casemgmt.referrals.models import OPEN_STATUSES, Referral
from casemgmt.transfers.models import Transfer
from casemgmt.workflow.deadlines import refresh_due
from casemgmt.workflow.guards import assignable_worker
from casemgmt.workflow.services import pending_approval

MAX_TEXT = 2000


class WrongStatus(ServiceError):
    status = 409
    code = "wrong_status"
    default_text = _l("The transfer has already been answered or withdrawn.")


class TransferOpen(ServiceError):
    status = 409
    code = "transfer_open"
    default_text = _l("A transfer of this case is already waiting for an answer.")


class CaseClosed(ServiceError):
    status = 409
    code = "case_closed"
    default_text = _l("The case is closed: a closed case is not transferred.")


def _text(value, field: str, missing: str, errors: dict) -> str:
    value = (value or "").strip() if isinstance(value, str) else ""
    if not value:
        errors[field] = missing
    elif len(value) > MAX_TEXT:
        errors[field] = _("At most 2,000 characters.")
    return value


def snapshot(t: Transfer) -> dict:
    return {"status": t.status, "to_organisation_id": t.to_organisation_id, "assigned_worker_id": t.assigned_worker_id}


_OPEN_OF_CASE = select(Transfer).where(Transfer.case_id == bindparam("case_id"), Transfer.status == "requested")


def open_transfer(case: Case) -> Transfer | None:
    return db.session.scalar(_OPEN_OF_CASE, {"case_id": case.id})


def transfers_of_case(case: Case) -> list[Transfer]:
    return list(db.session.scalars(select(Transfer).where(Transfer.case_id == case.id)
                                   .order_by(Transfer.requested_at.desc(), Transfer.id.desc())))


def pksai_choices(case: Case) -> list[Organisation]:
    """The PKSAI of other districts a case may be transferred to, by name."""
    rows = db.session.scalars(select(Organisation).where(Organisation.kind == "pksai", Organisation.active.is_(True))
                              .order_by(Organisation.name))
    return [o for o in rows if district_of(o.area_code) not in (None, case.district_code)]


def request_transfer(case: Case, actor, to_organisation_id, reason: str, version: int | None = None,
                     now: datetime | None = None) -> Transfer:
    """The coordinator of the case's district asks another district's PKSAI to take it over."""
    now = now or utcnow()
    if not coordinates(actor, case.district_code) or actor.organisation_id is None:
        raise Forbidden(_("Only the PKSAI coordinator of the case's district asks for its transfer."))
    check_version(case, version)
    if not may_request_transfer(actor, case):
        raise CaseClosed()
    if open_transfer(case) is not None:
        raise TransferOpen()
    errors: dict[str, str] = {}
    org_id = id_or_none(to_organisation_id) if not isinstance(to_organisation_id, bool) else None
    org = db.session.get(Organisation, org_id) if org_id else None
    to_district = district_of(org.area_code) if org is not None else None
    if org is None or not org.active:
        errors["to_organisation_id"] = _("Choose the PKSAI of the district that takes the case over.")
    elif org.kind != "pksai":
        errors["to_organisation_id"] = _("%(name)s is not a PKSAI: cases are transferred to another district's "
                                         "PKSAI. To ask an agency for a service, refer the case.", name=org.name)
    elif to_district is None or to_district == case.district_code:
        errors["to_organisation_id"] = _("%(name)s is in this case's own district: choose the PKSAI of another "
                                         "district.", name=org.name)
    reason = _text(reason, "reason", _("Say why the case moves to another district."), errors)
    if errors:
        raise ValidationFailed(errors)
    transfer = Transfer(case_id=case.id, from_organisation_id=actor.organisation_id,
                        from_district_code=case.district_code, to_organisation_id=org.id, to_district_code=to_district,
                        reason=reason, status="requested", requested_by_id=actor.id, requested_at=now)
    db.session.add(transfer)
    try:
        with db.session.begin_nested():  # the one-open-request index: a request sent at the same moment
            db.session.flush()
    except IntegrityError:
        raise TransferOpen() from None
    add_event(case, "transfer_requested", actor, comment=reason, at=now,
              data={"transfer_id": transfer.id, "to": org.name})
    audit.record("transfer_requested", "case", case.id, actor=actor, after={"transfer_id": transfer.id,
                                                                          **snapshot(transfer)})
    events.transfer_requested(case, [u.id for u in coordinators_of(to_district) if u.organisation_id == org.id],
                              str(transfer.id), None, now)
    db.session.flush()
    return transfer


def _require(transfer: Transfer, actor, action: str, version: int | None) -> None:
    allowed = receives_transfer(actor, transfer) if action in ("accept", "decline") else sent_transfer(actor, transfer)
    if not allowed:
        raise Forbidden()
    check_version(transfer, version)
    if action not in transfer_actions(actor, transfer):
        raise WrongStatus()


def accept_transfer(transfer: Transfer, actor, assigned_worker_id, version: int | None = None,
                    cancel_referral_ids=(), now: datetime | None = None) -> Transfer:
    """The receiving coordinator takes the case over and gives it to one of their social workers.
    The case keeps its number and history; from now it is the receiving district's. Referrals
    still open are kept unless named in ``cancel_referral_ids`` (the receiver's decision)."""
    now = now or utcnow()
    _require(transfer, actor, "accept", version)
    case = db.session.get(Case, transfer.case_id)
    errors: dict[str, str] = {}
    worker = assignable_worker(assigned_worker_id, transfer.to_district_code)
    if worker is None:
        errors["assigned_worker_id"] = _("Choose an active social worker of your district.")
    open_refs = open_referrals(case)
    wanted = {id_or_none(i) for i in (cancel_referral_ids or ())}
    if None in wanted or not wanted <= {r.id for r in open_refs}:
        errors["cancel_referral_ids"] = _("Only the case's open referrals can be cancelled here.")
    if case.status != "open":
        raise CaseClosed()
    if pending_approval(case) is not None:
        errors["assigned_worker_id"] = _("A request on this case waits for the sending coordinator's approval: "
                                         "it is decided before the case moves.")
    if errors:
        raise ValidationFailed(errors)
    before = snapshot(transfer)
    from_worker = case.assigned_worker_id
    transfer.status = "accepted"
    transfer.decided_by_id = actor.id
    transfer.decided_at = now
    transfer.transferred_at = now
    transfer.assigned_worker_id = worker.id
    add_event(case, "transfer_accepted", actor, at=now,
              data={"transfer_id": transfer.id, "from": transfer.from_organisation.name,
                    "to": transfer.to_organisation.name, "to_worker": worker.full_name,
                    "from_worker_id": from_worker, "to_worker_id": worker.id})
    for referral in open_refs:
        if referral.id in wanted:
            referral.status = "cancelled"
            referral.cancel_reason = _("The case was transferred to %(name)s.", name=transfer.to_organisation.name)
            referral.updated_at = now
            add_event(case, "referral_cancelled", actor, comment=referral.cancel_reason, at=now,
                      data={"referral_id": referral.id, "to": referral.to_organisation.name,
                            "service": referral.service})
            audit.record("referral_cancelled", "referral", referral.id, actor=actor, after={"status": "cancelled"})
    case.district_code = transfer.to_district_code
    case.assigned_worker_id = worker.id
    case.updated_at = now
    # The receiving district's clock lengths from now; its people have not been told of a
    # deadline passed, so the sweep tells them afresh.
    refresh_due(case, now)
    case.overdue_notified_at = None
    audit.record("transfer_accepted", "case", case.id, actor=actor, before=before, after=snapshot(transfer))
    events.case_assigned(case, worker.id, actor, now)
    db.session.flush()
    return transfer


def decline_transfer(transfer: Transfer, actor, reason: str, version: int | None = None,
                     now: datetime | None = None) -> Transfer:
    now = now or utcnow()
    _require(transfer, actor, "decline", version)
    errors: dict[str, str] = {}
    reason = _text(reason, "reason", _("Say why the transfer is declined."), errors)
    if errors:
        raise ValidationFailed(errors)
    return _close(transfer, actor, "declined", reason, now)


def cancel_transfer(transfer: Transfer, actor, reason: str | None = None, version: int | None = None,
                    now: datetime | None = None) -> Transfer:
    """The sending coordinator withdraws a request not yet answered."""
    now = now or utcnow()
    _require(transfer, actor, "cancel", version)
    return _close(transfer, actor, "cancelled", (reason or "").strip()[:MAX_TEXT] or None, now)


def _close(transfer: Transfer, actor, status: str, reason, now: datetime) -> Transfer:
    case = db.session.get(Case, transfer.case_id)
    before = snapshot(transfer)
    transfer.status = status
    transfer.decided_by_id = actor.id
    transfer.decided_at = now
    if status == "declined":
        transfer.decline_reason = reason
    add_event(case, f"transfer_{status}", actor, comment=reason, at=now,
              data={"transfer_id": transfer.id, "to": transfer.to_organisation.name})
    audit.record(f"transfer_{status}", "case", case.id, actor=actor, before=before, after=snapshot(transfer))
    db.session.flush()
    return transfer


def open_referrals(case: Case) -> list[Referral]:
    return list(db.session.scalars(select(Referral).where(Referral.case_id == case.id,
                                                          Referral.status.in_(OPEN_STATUSES))
                                   .order_by(Referral.created_at, Referral.id)))


def case_of(transfer: Transfer) -> Case:
    return db.session.get(Case, transfer.case_id)


def case_number(transfer: Transfer) -> str:
    return db.session.scalar(select(Case.number).where(Case.id == transfer.case_id))


def incoming(user) -> list[Transfer]:
    """Requests waiting for the user's answer: to their PKSAI, in their district."""
    if user.role != "coordinator" or user.organisation_id is None:
        return []
    rows = db.session.scalars(select(Transfer).where(Transfer.to_organisation_id == user.organisation_id,
                                                     Transfer.status == "requested")
                              .order_by(Transfer.requested_at, Transfer.id).limit(200))
    return [t for t in rows if receives_transfer(user, t)]


def transfer_or_404(user, transfer_id):
    """A transfer the user is a party to (the sending or receiving coordinator); 404 otherwise."""
    from flask import abort

    transfer = db.session.get(Transfer, transfer_id) if isinstance(transfer_id, int) else None
    if transfer is None or not (receives_transfer(user, transfer) or sent_transfer(user, transfer)):
        abort(404)
    return transfer
