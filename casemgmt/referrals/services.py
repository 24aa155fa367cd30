"""Referral operations: make, accept, decline, complete, cancel, refer back; the overdue sweep.
Each is one transaction with its timeline entry and audit row."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select

from casemgmt import paging
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case
from casemgmt.cases.timeline import add_event
from casemgmt.codes import SERVICES
from casemgmt.dbtypes import utcnow
from casemgmt.directory.models import Organisation
from casemgmt.errors import Forbidden, ServiceError, ValidationFailed, check_version
from casemgmt.extensions import db
from casemgmt.notify import events as tell
from casemgmt.referrals.models import CONSENT_GIVERS, Referral, URGENCIES
from casemgmt.workflow.deadlines import hours_for, refresh_due
from casemgmt.workflow.models import PlanAction

from casemgmt.access import (case_access, coordinates, may_act_on_referral, referral_actions,
                             scope_referrals)


class WrongStatus(ServiceError):
    status = 409
    code = "wrong_status"
    default_text = _l("The referral's status does not allow this.")


class ConsentRequired(ServiceError):
    status = 422
    code = "consent_required"
    default_text = _l("Record who gave consent and when, or a coordinator's override with its reason.")


def _snapshot(r: Referral) -> dict:
    return {"status": r.status, "to_organisation_id": r.to_organisation_id, "service": r.service,
            "urgency": r.urgency}


def _reference(case: Case, now: datetime) -> str:
    count = db.session.scalar(select(func.count(Referral.id)).where(Referral.case_id == case.id)) or 0
    return f"RJK/{case.number}/{count + 1:02d}"


def make_referral(case: Case, actor, *, to_organisation_id: int, service: str, reason: str, urgency: str = "normal",
                  consent: dict | None = None, consent_override: dict | None = None, plan_action_id: int | None = None,
                  parent: Referral | None = None, now: datetime | None = None) -> Referral:
    """Refer a case. Consent (who gave it, when) is required, unless a coordinator of the case's
    district records why it is overridden."""
    now = now or utcnow()
    access = case_access(actor, case)
    if parent is None and not access.add_notes:
        raise Forbidden()
    if actor.organisation_id is None:
        raise Forbidden(_("Only a member of an organisation can send a referral."))
    if case.status != "open":
        raise ServiceError(_("A closed case cannot be referred."))
    errors = {}
    org = db.session.get(Organisation, to_organisation_id) if isinstance(to_organisation_id, int) else None
    if service not in SERVICES:
        errors["service"] = _("Choose a service.")
    if org is None or not org.active:
        errors["to_organisation_id"] = _("Choose an organisation from the directory.")
    elif service in SERVICES and service not in org.services:
        errors["to_organisation_id"] = _("This organisation does not offer that service.")
    elif org.id == actor.organisation_id:
        errors["to_organisation_id"] = _("Refer to another organisation than your own.")
    if not (reason or "").strip():
        errors["reason"] = _("Say why the child is referred.")
    if urgency not in URGENCIES:
        errors["urgency"] = _("Choose normal or urgent.")
    action = None
    if plan_action_id is not None:

        action = db.session.get(PlanAction, plan_action_id)
        if action is None or action.case_id != case.id or action.status != "open":
            errors["plan_action_id"] = _("Choose an open action of this case's plan.")
    if errors:
        raise ValidationFailed(errors)
    given_by = recorded_on = override_reason = None
    override_by = None
    if parent is not None:  # a counter-referral carries the first referral's consent
        given_by, recorded_on = parent.consent_given_by, parent.consent_recorded_on
        override_reason, override_by = parent.consent_override_reason, parent.consent_override_by_id
    elif consent:
        given_by, recorded_on = consent.get("given_by"), consent.get("recorded_on")
        if isinstance(recorded_on, str):
            try:
                recorded_on = date.fromisoformat(recorded_on)
            except ValueError:
                recorded_on = None
        if given_by not in CONSENT_GIVERS or not isinstance(recorded_on, date) or recorded_on > now.date():
            raise ConsentRequired()
    elif consent_override:
        if not coordinates(actor, case.district_code):
            raise Forbidden(_("Only the district's PKSAI coordinator may refer without consent."))
        override_reason = (consent_override.get("reason") or "").strip()
        if not override_reason:
            raise ConsentRequired(_("Give the reason for referring without consent."))
        override_by = actor.id
    else:
        raise ConsentRequired()
    referral = Referral(
        reference=_reference(case, now), case_id=case.id, from_organisation_id=actor.organisation_id,
        to_organisation_id=org.id, service=service, reason=reason.strip(), urgency=urgency, status="sent",
        consent_given_by=given_by, consent_recorded_on=recorded_on, consent_override_reason=override_reason,
        consent_override_by_id=override_by, plan_action_id=action.id if action else None,
        parent_referral_id=parent.id if parent else None, created_by_id=actor.id, created_at=now,
        respond_by=now + timedelta(hours=hours_for("referral_answer", urgency, case.district_code)),
    )
    db.session.add(referral)
    db.session.flush()
    add_event(case, "referral_sent", actor, comment=referral.reason, data={
        "referral_id": referral.id, "to": org.name, "service": service, "urgency": urgency,
        "counter": parent is not None})
    audit.record("referral_sent", "referral", referral.id, actor=actor, after=_snapshot(referral))
    tell.referral_sent(referral, case, actor, now)
    db.session.flush()
    return referral


def _require(referral: Referral, actor, action: str, version: int | None) -> None:
    """access.REFERRAL_ACTIONS' answer, in the order a caller can act on: not their referral to
    act on (403), then a stale version (409), then a status that does not allow it (409)."""
    if not may_act_on_referral(actor, referral, action):
        raise Forbidden()
    check_version(referral, version)
    if action not in referral_actions(actor, referral):
        raise WrongStatus()


def _change(referral: Referral, actor, action: str, status: str, *, comment=None, data=None, now=None) -> Referral:
    before = _snapshot(referral)
    referral.status = status
    referral.updated_at = now or utcnow()
    case = db.session.get(Case, referral.case_id)
    add_event(case, f"referral_{action}", actor, comment=comment,
              data={"referral_id": referral.id, "to": referral.to_organisation.name, "service": referral.service,
                    **(data or {})})
    audit.record(f"referral_{action}", "referral", referral.id, actor=actor, before=before, after=_snapshot(referral))
    if status in ("accepted", "declined", "completed"):
        tell.referral_answered(referral, case, actor, referral.updated_at)
    db.session.flush()
    return referral


def accept(referral: Referral, actor, version: int | None = None, now: datetime | None = None) -> Referral:
    _require(referral, actor, "accept", version)
    now = now or utcnow()
    referral.responded_at, referral.responded_by_id = now, actor.id
    return _change(referral, actor, "accepted", "accepted", now=now)


def decline(referral: Referral, actor, reason: str, version: int | None = None,
            now: datetime | None = None) -> Referral:
    _require(referral, actor, "decline", version)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": _("Say why the referral is declined.")})
    now = now or utcnow()
    referral.responded_at, referral.responded_by_id = now, actor.id
    referral.decline_reason = reason.strip()
    return _change(referral, actor, "declined", "declined", comment=referral.decline_reason, now=now)


def complete(referral: Referral, actor, outcome: str, delivered_on: date | None, version: int | None = None,
             now: datetime | None = None) -> Referral:
    """The service was given. When the referral came from a plan action, the action is done too."""
    _require(referral, actor, "complete", version)
    now = now or utcnow()
    errors = {}
    if not (outcome or "").strip():
        errors["outcome"] = _("Describe the service given.")
    if not isinstance(delivered_on, date):
        errors["delivered_on"] = _("Give the date the service was delivered.")
    elif delivered_on > now.date():
        errors["delivered_on"] = _("The date cannot be in the future.")
    if errors:
        raise ValidationFailed(errors)
    referral.outcome, referral.delivered_on, referral.completed_at = outcome.strip(), delivered_on, now
    if referral.plan_action_id:

        action = db.session.get(PlanAction, referral.plan_action_id)
        if action is not None and action.status == "open":
            action.status, action.done_on = "done", delivered_on
            action.note = _("Completed through referral %(reference)s", reference=referral.reference)
            case = db.session.get(Case, referral.case_id)
            db.session.flush()
            refresh_due(case, now)
            add_event(case, "action_done", actor, comment=action.note,
                      data={"action_id": action.id, "description": action.description, "service": action.service})
    return _change(referral, actor, "completed", "completed", comment=referral.outcome,
                   data={"delivered_on": delivered_on.isoformat()}, now=now)


def cancel(referral: Referral, actor, reason: str, version: int | None = None, now: datetime | None = None) -> Referral:
    _require(referral, actor, "cancel", version)
    if not (reason or "").strip():
        raise ValidationFailed({"reason": _("Say why the referral is cancelled.")})
    referral.cancel_reason = reason.strip()
    return _change(referral, actor, "cancelled", "cancelled", comment=referral.cancel_reason, now=now)


def refer_back(referral: Referral, actor, service: str, reason: str, urgency: str = "normal") -> Referral:
    """A counter-referral: the agency sends the child back (to the sender, by default)."""
    _require(referral, actor, "refer_back", None)
    case = db.session.get(Case, referral.case_id)
    return make_referral(case, actor, to_organisation_id=referral.from_organisation_id, service=service,
                         reason=reason, urgency=urgency, parent=referral)


def record_view(viewer, referral: Referral) -> None:
    audit.log_access(viewer, "view_referral", "referral", referral.id, case_id=referral.case_id)
    db.session.flush()


# Built once, as the case page's other reads (cases.timeline._TIMELINE).
_OF_CASE = (select(Referral).where(Referral.case_id == bindparam("case_id"))
            .order_by(Referral.created_at.desc(), Referral.id.desc()))


def referrals_of_case(case: Case, until: datetime | None = None) -> list[Referral]:
    """The case's referrals, newest first; ``until``: those made up to that moment only."""
    if until is not None:
        return list(db.session.scalars(_OF_CASE.where(Referral.created_at <= until), {"case_id": case.id}))
    return list(db.session.scalars(_OF_CASE, {"case_id": case.id}))


# A box's two parts, in the order they are listed (the part a cursor resumes in).
WAITING, ANSWERED = "waiting", "answered"


def box(actor, which: str, status: str | None = None, *, limit: int = 25,
        cursor: str | None = None) -> tuple[list[Referral], str | None]:
    """A page of the user's inbox (referrals to their organisation) or outbox (from it), those
    they may open (access.scope_referrals), and the cursor of the next: unanswered ones first, by
    answer deadline, then the rest, newest first. ``status`` narrows either part. Each part is
    read through an index, a page at a time, so an agency's thousandth referral is reached as its
    first is (the box was cut at 200). A referral answered while a client pages moves from the
    first part to the second: it may be listed again there, never left out."""
    limit = paging.page_size(limit)
    base = scope_referrals(actor, which)
    if status:
        base = base.where(Referral.status == status)

    def waiting(after, room):
        if status not in (None, "sent"):
            return []
        query = base.where(Referral.status == "sent")
        if after:
            query = query.where(*paging.after(Referral.respond_by, Referral.id, *after))
        return list(db.session.scalars(query.order_by(Referral.respond_by, Referral.id).limit(room)))

    def answered(after, room):
        if status == "sent":
            return []
        query = base.where(Referral.status != "sent")
        if after:
            query = query.where(*paging.before(Referral.created_at, Referral.id, *after))
        return list(db.session.scalars(query.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(room)))

    return paging.in_parts([(WAITING, waiting), (ANSWERED, answered)], cursor, limit, _box_keys)


def _box_keys(referral: Referral) -> tuple:
    """Where a box resumes after this referral: its part, and its place in that part's order."""
    if referral.status == "sent":
        return WAITING, referral.respond_by, referral.id
    return ANSWERED, referral.created_at, referral.id
