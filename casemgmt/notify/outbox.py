"""notify(): tell people of an event, in the transaction of the event. It writes one in-app
notification per recipient and one delivery row per configured channel, and flushes; the
worker (notify.delivery) sends what is due after the commit.

When a channel's delivery is due: at once; at 06:00 Asia/Makassar when written in the quiet
hours (21:00-06:00) and not urgent; at the district's digest time (district_settings) when the
recipient chose a daily e-mail. Urgent means an urgent referral: it ignores quiet hours and the
digest, but a channel the recipient turned off stays off (their choice; the in-app notice and
the other channels remain).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select

from casemgmt.accounts.models import User
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.notify import registry
from casemgmt.notify.models import KINDS, Delivery, Notification, NotificationPreference

log = logging.getLogger(__name__)

LOCAL_ZONE = ZoneInfo("Asia/Makassar")
QUIET_FROM, QUIET_UNTIL = time(21, 0), time(6, 0)

# What a notification may carry: numbers, times, what is asked, ids for links. Never a child's
# name, address or concern, nor free text someone typed (a reason, a comment, a title).
PARAMETERS = frozenset({"number", "reference", "due_at", "due_date", "transition", "status", "decision",
                        "scheduled_at", "count", "case_id", "referral_id", "approval_id", "conference_id",
                        "task_id", "clock"})


def _local(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_ZONE)


def quiet_until(now: datetime) -> datetime | None:
    """The end of the quiet hours ``now`` falls in (06:00 Makassar, in UTC), or None by day."""
    local = _local(now)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return None
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + timedelta(days=1)
    return datetime.combine(day, QUIET_UNTIL, LOCAL_ZONE).astimezone(now.tzinfo)


def next_digest(at: time, now: datetime) -> datetime:
    """The next time of day ``at`` (Makassar) after ``now``."""
    local = _local(now)
    moment = datetime.combine(local.date(), at, LOCAL_ZONE)
    if moment <= local:
        moment = datetime.combine(local.date() + timedelta(days=1), at, LOCAL_ZONE)
    return moment.astimezone(now.tzinfo)


def _ids(recipients) -> set[int]:
    return {r if isinstance(r, int) else r.id for r in recipients if r is not None}


@dataclass(frozen=True)
class Notice:
    """One event to tell: its kind, who, the key naming the event, its parameters and link."""

    kind: str
    recipients: frozenset
    key: str
    data: dict = field(default_factory=dict)
    link: str | None = None
    case_id: int | None = None
    urgent: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown notification kind {self.kind!r}")
        if set(self.data) - PARAMETERS:
            raise ValueError(f"a notification carries no {sorted(set(self.data) - PARAMETERS)}")


def notice(kind: str, recipients, *, key: str, data: dict | None = None, link: str | None = None,
           case_id: int | None = None, urgent: bool = False) -> Notice:
    return Notice(kind, frozenset(_ids(recipients)), key, dict(data or {}), link, case_id, urgent)


def notify(kind: str, recipients, *, key: str, data: dict | None = None, link: str | None = None,
           case_id: int | None = None, urgent: bool = False, now: datetime | None = None) -> list[int]:
    """Tell ``recipients`` (users or user ids) of one event, named by ``key``: a person already
    told of that event is not told again. Inactive users are left out. Answers the new
    notifications' ids; writes in the caller's transaction, never commits."""
    return notify_many([notice(kind, recipients, key=key, data=data, link=link, case_id=case_id, urgent=urgent)],
                       now)


# Built once: an event's notices cost their statements' execution, not their construction.
_RECIPIENTS = (select(User, NotificationPreference)
               .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
               .where(User.id.in_(bindparam("ids", expanding=True)), User.active.is_(True)))
_INSERTS: dict = {}


def notify_many(notices: list[Notice], now: datetime | None = None) -> list[int]:
    """notify() for many events at once (a sweep's batch): three statements whatever their number.
    A person already told of an event (its key) is left out by the insert itself."""
    ids = set().union(*(n.recipients for n in notices)) if notices else set()
    if not ids:
        return []
    now = now or utcnow()
    users = {user.id: (user, preference)
             for user, preference in db.session.execute(_RECIPIENTS, {"ids": list(ids)})}
    told: set[tuple[int, str]] = set()  # within this batch
    made = []
    for n in notices:
        for user_id in sorted(n.recipients):
            if user_id not in users or (user_id, n.key) in told:
                continue
            told.add((user_id, n.key))
            user, preference = users[user_id]
            made.append(({"user_id": user_id, "case_id": n.case_id, "kind": n.kind, "data": n.data, "link": n.link,
                          "urgent": n.urgent, "event_key": n.key, "created_at": now, "read_at": None},
                         n.urgent, user, preference))
    if not made:
        return []
    channels = registry.configured()
    db.session.flush()  # the event's own rows first (the case a notice points to)
    # Core INSERTs of many rows each: a sweep's batch or one event's several recipients cost two
    # statements. A person told of the same event before, or by another transaction at the same
    # moment, is left out by the unique (user_id, event_key), never an error that would undo the event.
    inserted = {(user_id, key): notification_id for notification_id, user_id, key in db.session.execute(
        _insert_new_notifications(), [row for row, _urgent, _user, _preference in made])}
    if len(inserted) < len(made):
        log.debug("notifications already written for these events left out",
                  extra={"kinds": sorted({n.kind for n in notices}), "outcome": "duplicate"})
    rows = [(inserted[(row["user_id"], row["event_key"])], urgent, user, preference)
            for row, urgent, user, preference in made if (row["user_id"], row["event_key"]) in inserted]
    if channels and rows:
        db.session.execute(Delivery.__table__.insert(), [
            _delivery(notification_id, urgent, user, preference, name, channel, now)
            for notification_id, urgent, user, preference in rows for name, channel in channels.items()])
    return [notification_id for notification_id, _urgent, _user, _preference in rows]


def _insert_new_notifications():
    """INSERT ... ON CONFLICT (user_id, event_key) DO NOTHING RETURNING, in the database's dialect."""
    dialect = db.session.get_bind().dialect.name
    if dialect not in _INSERTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        table = Notification.__table__
        _INSERTS[dialect] = (dialect_insert(table).on_conflict_do_nothing(index_elements=["user_id", "event_key"])
                             .returning(table.c.id, table.c.user_id, table.c.event_key))
    return _INSERTS[dialect]


def _digest_time(user) -> time:
    from casemgmt.directory.services import district_settings

    return district_settings(user.area_code).digest_time


def _delivery(notification_id: int, urgent: bool, user, preference, name: str, channel, now: datetime) -> dict:
    """The delivery row of one notification on one channel, due as the module's docstring says."""
    mode = getattr(preference, name, None) or "immediate"
    row = {"notification_id": notification_id, "user_id": user.id, "channel": name, "status": "pending",
           "digest": False, "attempts": 0, "next_attempt_at": now, "claimed_at": None, "claim_token": None,
           "last_error": None, "sent_at": None, "created_at": now}
    if mode == "off":
        row.update(status="skipped", last_error="off in the user's preferences", next_attempt_at=None)
    elif not channel.addresses(user):
        row.update(status="skipped", last_error="no address", next_attempt_at=None)
    elif mode == "daily" and not urgent:
        row.update(digest=True, next_attempt_at=next_digest(_digest_time(user), now))
    elif not urgent:
        row["next_attempt_at"] = quiet_until(now) or now
    return row
