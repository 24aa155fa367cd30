"""Who is told of what: one function per event, called by the operation that makes the event,
in its transaction. Each names the recipients, the parameters (never the child's) and the link.

A "task" is a case conference's action item (conferences.models.Task): its owner, or the
members of its owning organisation when no one person owns it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select

from casemgmt.accounts.models import User
from casemgmt.extensions import db
from casemgmt.notify.outbox import Notice, notice, notify, notify_many


def _iso(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


_MEMBERS = select(User.id).where(User.organisation_id.in_(bindparam("ids", expanding=True)), User.active.is_(True))


def members_of(organisation_ids) -> list[int]:
    """The active members of these organisations (ids): a Core query on the session's connection,
    after a flush so that it sees this transaction's changes."""
    ids = [i for i in organisation_ids if i is not None]
    if not ids:
        return []
    db.session.flush()
    return list(db.session.connection().execute(_MEMBERS, {"ids": ids}).scalars())


def _others(ids, actor) -> set[int]:
    """Nobody is told of what they did themselves."""
    return set(ids) - {getattr(actor, "id", None)}


def referral_sent(referral, case, actor, now: datetime) -> None:
    notify("referral_received", _others(members_of([referral.to_organisation_id]), actor),
           key=f"referral_received:{referral.id}", case_id=case.id, link=f"/referrals/{referral.id}",
           urgent=referral.urgency == "urgent", now=now,
           data={"number": case.number, "reference": referral.reference, "due_at": _iso(referral.respond_by),
                 "referral_id": referral.id})


def referral_answered(referral, case, actor, now: datetime) -> None:
    notify("referral_answered", _others([case.assigned_worker_id], actor),
           key=f"referral_answered:{referral.id}:{referral.status}", case_id=case.id,
           link=f"/referrals/{referral.id}", now=now,
           data={"number": case.number, "reference": referral.reference, "status": referral.status,
                 "referral_id": referral.id})


def approval_requested(approval, case, actor, now: datetime) -> None:
    from casemgmt.access import coordinators_of

    notify("approval_requested", _others([u.id for u in coordinators_of(case.district_code)], actor),
           key=f"approval_requested:{approval.id}", case_id=case.id, link=f"/cases/{case.id}", now=now,
           data={"number": case.number, "transition": approval.transition, "approval_id": approval.id})


def approval_decided(approval, case, actor, now: datetime) -> None:
    notify("approval_decided", _others([approval.requested_by_id], actor),
           key=f"approval_decided:{approval.id}", case_id=case.id, link=f"/cases/{case.id}", now=now,
           data={"number": case.number, "transition": approval.transition, "decision": approval.status,
                 "approval_id": approval.id})


def _case_assigned(case, worker_id, actor, now: datetime) -> Notice:
    return notice("case_assigned", _others([worker_id], actor), key=f"case_assigned:{case.id}:{worker_id}:{_iso(now)}",
                  case_id=case.id, link=f"/cases/{case.id}", data={"number": case.number, "due_at": _iso(case.due_at)})


def case_assigned(case, worker_id, actor, now: datetime) -> None:
    notify_many([_case_assigned(case, worker_id, actor, now)], now)


def caseload_reassigned(cases, from_worker_id: int, to_worker_id: int, actor, now: datetime) -> None:
    """Cases moved from one worker to another at once: one message to each, however many moved."""
    if not cases:
        return
    key = f"{from_worker_id}:{to_worker_id}:{_iso(now)}"
    single = {"number": cases[0].number} if len(cases) == 1 else {}
    notify("case_assigned", _others([to_worker_id], actor), key=f"case_assigned:caseload:{key}",
           case_id=cases[0].id if single else None, link=f"/cases/{cases[0].id}" if single else "/tasks",
           now=now, data={"count": len(cases), **single})
    notify("caseload_moved", _others([from_worker_id], actor), key=f"caseload_moved:{key}", link="/tasks",
           now=now, data={"count": len(cases)})


def _complaint_status(case, status: str, actor, now: datetime) -> Notice:
    return notice("complaint_status", _others([case.registered_by_id], actor),
                  key=f"complaint_status:{case.id}:{status}:{_iso(now)}", case_id=case.id, link="/complaints/mine",
                  data={"number": case.number, "status": status})


def complaint_status(case, status: str, actor, now: datetime) -> None:
    """Whoever registered the complaint hears what became of it: accepted, dismissed, closed."""
    notify_many([_complaint_status(case, status, actor, now)], now)


def after_transition(case, transition_name: str, closed: bool, actor, now: datetime) -> None:
    """A transition's notices: the worker a triage assigned, the complaint's registrar (one write
    for both)."""
    if transition_name == "accept":
        notify_many([_case_assigned(case, case.assigned_worker_id, actor, now),
                     _complaint_status(case, "accepted", actor, now)], now)
    elif transition_name == "dismiss":
        complaint_status(case, "dismissed", actor, now)
    elif closed:
        complaint_status(case, "closed", actor, now)


# The sweeps' events: built as Notices, written a batch at a time (outbox.notify_many).

def overdue_notice(case, user_ids) -> Notice:
    return notice("deadline_overdue", user_ids, key=f"deadline_overdue:case:{case.id}:{_iso(case.due_at)}",
                  case_id=case.id, link=f"/cases/{case.id}", data={"number": case.number, "due_at": _iso(case.due_at)})


def due_soon_notice(case, user_ids) -> Notice:
    return notice("deadline_due_soon", user_ids, key=f"deadline_due_soon:case:{case.id}:{_iso(case.due_at)}",
                  case_id=case.id, link=f"/cases/{case.id}", data={"number": case.number, "due_at": _iso(case.due_at)})


def referral_overdue_notice(referral, case, user_ids) -> Notice:
    return notice("deadline_overdue", user_ids, key=f"deadline_overdue:referral:{referral.id}",
                  case_id=case.id, link=f"/referrals/{referral.id}",
                  data={"number": case.number, "reference": referral.reference,
                        "due_at": _iso(referral.respond_by), "referral_id": referral.id})


def juvenile_overdue_notice(run, case, user_ids) -> Notice:
    """A juvenile-justice clock (PP 65/2015) run out: urgent, as the law's hours are short."""
    return notice("deadline_overdue", user_ids, key=f"deadline_overdue:juvenile:{run.id}", case_id=case.id,
                  link=f"/cases/{case.id}", urgent=True,
                  data={"number": case.number, "due_at": _iso(run.due_at), "clock": run.clock})


def juvenile_clocks_started(runs, case, actor, now: datetime) -> None:
    """An investigator's request recorded by someone else: the case's worker hears at once of the
    clock that runs out first, since the law gives a day for the response."""
    first = min(runs, key=lambda run: run.due_at)
    notify("deadline_due_soon", _others([case.assigned_worker_id], actor),
           key=f"deadline_due_soon:juvenile:{first.id}", case_id=case.id, link=f"/cases/{case.id}",
           urgent=True, now=now, data={"number": case.number, "due_at": _iso(first.due_at), "clock": first.clock})


def referral_due_soon_notice(referral, case) -> Notice:
    return notice("referral_due_soon", members_of([referral.to_organisation_id]),
                  key=f"referral_due_soon:{referral.id}:{_iso(referral.respond_by)}", case_id=case.id,
                  link=f"/referrals/{referral.id}", urgent=referral.urgency == "urgent",
                  data={"number": case.number, "reference": referral.reference,
                        "due_at": _iso(referral.respond_by), "referral_id": referral.id})


def deadline_overdue(case, user_ids, now: datetime) -> int:
    return len(notify_many([overdue_notice(case, user_ids)], now))


def deadline_due_soon(case, user_ids, now: datetime) -> int:
    return len(notify_many([due_soon_notice(case, user_ids)], now))


def referral_overdue(referral, case, user_ids, now: datetime) -> int:
    return len(notify_many([referral_overdue_notice(referral, case, user_ids)], now))


def referral_due_soon(referral, case, now: datetime) -> int:
    return len(notify_many([referral_due_soon_notice(referral, case)], now))


def conference_invited(conf, organisation_ids, actor, now: datetime) -> None:
    notify("conference_invited", _others(members_of(organisation_ids), actor), key=f"conference_invited:{conf.id}",
           link=f"/conferences/{conf.id}", now=now,
           data={"scheduled_at": _iso(conf.scheduled_at), "conference_id": conf.id})


def task_assigned(task, case, actor, now: datetime) -> None:
    people = [task.owner_user_id] if task.owner_user_id else members_of([task.owner_organisation_id])
    notify("task_assigned", _others(people, actor), key=f"task_assigned:{task.id}", case_id=case.id,
           link="/tasks", now=now,
           data={"number": case.number, "due_date": _iso(task.due_date), "task_id": task.id})


# Provided for the branches that make these events (transfers, population): not wired here.
def transfer_requested(case, user_ids, key: str, due_at: datetime | None, now: datetime) -> None:
    notify("transfer_requested", user_ids, key=f"transfer_requested:{key}", case_id=case.id,
           link=f"/cases/{case.id}", now=now, data={"number": case.number, "due_at": _iso(due_at)})


def outreach_assigned(user_ids, key: str, count: int, link: str, now: datetime) -> None:
    notify("outreach_assigned", user_ids, key=f"outreach_assigned:{key}", link=link, now=now,
           data={"count": count})


def outreach_letter(organisation_id: int, letter_id: int, number: str, actor, now: datetime) -> None:
    """A birth-certificate letter from an outreach row: the addressed Dukcapil office's members
    hear its number and where to read it, never whose it is."""
    notify("outreach_letter", _others(members_of([organisation_id]), actor), key=f"outreach_letter:{letter_id}",
           link=f"/outreach/letters/{letter_id}.pdf", now=now, data={"reference": number})
