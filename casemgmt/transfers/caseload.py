"""Caseloads that move: a coordinator hands one, several or all of a worker's open cases to
another worker of the district at once (the worker leaves, is on leave, carries too many)."""
from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from casemgmt.access import coordinates, district_of, may_reassign_caseload
from casemgmt.accounts.models import User
from casemgmt.audit import services as audit
from casemgmt.cases.models import Case
from casemgmt.cases.timeline import add_event
from casemgmt.dbtypes import utcnow
from casemgmt.errors import Forbidden, ServiceError, ValidationFailed
from casemgmt.extensions import db
from casemgmt.forms import id_or_none
from casemgmt.notify import events
from casemgmt.workflow.notices import tell_overdue
from casemgmt.workflow.services import pending_approvals

MAX_REASON = 2000


class NothingOpen(ServiceError):
    status = 409
    code = "nothing_open"
    default_text = _l("This worker holds no open case.")


def open_case_count(worker_id: int) -> int:
    """How many open cases a worker holds (read from ix_case_record_worker_due)."""
    return db.session.scalar(select(func.count()).select_from(Case).where(
        Case.assigned_worker_id == worker_id, Case.status == "open")) or 0


def open_cases_of(worker_id: int, limit: int | None = None) -> list[Case]:
    """A worker's open cases, those due first first (the caseload page)."""
    query = (select(Case).where(Case.assigned_worker_id == worker_id, Case.status == "open")
             .order_by(Case.due_at.is_(None), Case.due_at, Case.id))
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


def caseloads(district_code: str) -> list[tuple[User, int]]:
    """The district's social workers with their open cases, by name: the active ones, and the
    disabled ones still holding cases (to be moved)."""
    from casemgmt.access import within

    counts = dict(db.session.execute(
        select(Case.assigned_worker_id, func.count()).where(Case.district_code == district_code,
                                                            Case.status == "open",
                                                            Case.assigned_worker_id.is_not(None))
        .group_by(Case.assigned_worker_id)).all())
    workers = db.session.scalars(select(User).where(User.role == "social_worker",
                                                    within(User.area_code, district_code))
                                 .order_by(User.full_name))
    return [(u, counts.get(u.id, 0)) for u in workers if u.active or counts.get(u.id)]


def workers_to_receive(district_code: str, but: int | None = None) -> list[User]:
    """The active social workers of a district a caseload may go to, by name."""
    from casemgmt.access import active_users_in

    return [u for u in active_users_in(district_code, "social_worker") if u.id != but]


def reassign_caseload(actor, from_worker_id, to_worker_id, reason: str, case_ids=None,
                      now: datetime | None = None) -> int:
    """Hand ``case_ids`` (all the worker's open cases when None) from one social worker to another
    of the same district, the reason on each case's timeline and in the audit trail, all in the
    caller's transaction: every case moves or none does. Returns how many moved."""
    now = now or utcnow()
    source = db.session.get(User, id_or_none(from_worker_id)) if id_or_none(from_worker_id) else None
    if not may_reassign_caseload(actor, source):
        raise Forbidden(_("Only the PKSAI coordinator of the worker's district hands their cases to another worker."))
    district = district_of(source.area_code)
    errors: dict[str, str] = {}
    target_id = id_or_none(to_worker_id) if not isinstance(to_worker_id, bool) else None
    target = db.session.get(User, target_id) if target_id else None
    if target is None or target.role != "social_worker":
        errors["to_worker_id"] = _("Choose a social worker of the district to take the cases.")
    elif target.id == source.id:
        errors["to_worker_id"] = _("Choose another worker than the one who holds the cases.")
    elif not target.active:
        errors["to_worker_id"] = _("%(name)s's account is disabled: choose an active worker.", name=target.full_name)
    elif not coordinates(actor, district_of(target.area_code)):
        errors["to_worker_id"] = _("%(name)s works in another district: cases move between districts by a "
                                   "transfer.", name=target.full_name)
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = _("Say why the cases change hands.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("At most 2,000 characters.")
    if case_ids is not None:
        if not isinstance(case_ids, (list, tuple, set)) or not case_ids:
            errors["case_ids"] = _("Choose at least one case.")
        elif any(id_or_none(i) is None or isinstance(i, bool) for i in case_ids):
            errors["case_ids"] = _("Unknown case.")
    if errors:
        raise ValidationFailed(errors)

    # The cases read without their joined relations: a caseload can be thousands.
    query = select(Case).options(lazyload("*")).where(Case.assigned_worker_id == source.id,
                                                      Case.status == "open", Case.district_code == district)
    if case_ids is None:
        cases = list(db.session.scalars(query.order_by(Case.id).with_for_update()))
        if not cases:
            raise NothingOpen(_("%(name)s holds no open case.", name=source.full_name))
    else:
        wanted = sorted({id_or_none(i) for i in case_ids})
        cases = list(db.session.scalars(query.where(Case.id.in_(wanted)).order_by(Case.id).with_for_update()))
        if len(cases) != len(wanted):
            missing = sorted(set(wanted) - {c.id for c in cases})
            raise ValidationFailed({"case_ids": _(
                "%(count)d of the chosen cases are not open cases of %(name)s: nothing was moved.",
                count=len(missing), name=source.full_name)}) from None
    waiting = pending_approvals(cases)
    if waiting:
        numbers = ", ".join(c.number for c in cases if c.id in waiting)
        raise ValidationFailed({"case_ids": _(
            "A request waits for approval on %(numbers)s: decide it first, then move the cases. "
            "Nothing was moved.", numbers=numbers)})

    for case in cases:
        case.assigned_worker_id = target.id
        case.updated_at = now
        add_event(case, "reassigned", actor, comment=reason, at=now,
                  data={"from_worker_id": source.id, "to_worker_id": target.id, "to_worker": target.full_name})
        if case.overdue_notified_at is not None and case.overdue(now):  # the sweep told of this deadline
            tell_overdue(case, {target.id}, now)
        audit.record("case_reassigned", "case", case.id, actor=actor, before={"assigned_worker_id": source.id},
                     after={"assigned_worker_id": target.id})
    events.caseload_reassigned(cases, source.id, target.id, actor, now)
    db.session.flush()
    return len(cases)
