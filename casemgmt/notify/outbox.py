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
# The recipients as plain rows (what the channels' addresses and the preferences need), not ORM
# objects, and every statement Core on the session's connection.
_RECIPIENTS = (select(User.id, User.email, User.phone, User.area_code,
                      NotificationPreference.email.label("email_mode"),
                      NotificationPreference.push.label("push_mode"),
                      NotificationPreference.sms.label("sms_mode"))
               .outerjoin(NotificationPreference, NotificationPreference.user_id == User.id)
               .where(User.id.in_(bindparam("ids", expanding=True)), User.active.is_(True)))
_WITH_ADDRESSES: dict = {}  # _RECIPIENTS with the channels' has_address columns, by channels
_INSERTS: dict = {}
_DELIVERY_COLUMNS = ("notification_id", "user_id", "channel", "status", "digest", "attempts", "next_attempt_at",
                     "last_error", "created_at")
_DRIVER_INSERTS: dict = {}


def _recipients(channels: dict):
    """_RECIPIENTS, and for each channel that can say so in SQL whether a user has an address
    there, a column ``<channel>_reachable``."""
    names = tuple(name for name, channel in channels.items() if hasattr(channel, "has_address"))
    if names not in _WITH_ADDRESSES:
        _WITH_ADDRESSES[names] = _RECIPIENTS.add_columns(
            *(channels[name].has_address().label(f"{name}_reachable") for name in names))
    return _WITH_ADDRESSES[names]


def notify_many(notices: list[Notice], now: datetime | None = None) -> list[int]:
    """notify() for many events at once (a sweep's batch): three statements whatever their number
    (the recipients with their preferences and addresses, the notices, the deliveries). A person
    already told of an event (its key) is left out by the insert itself."""
    ids = set().union(*(n.recipients for n in notices)) if notices else set()
    if not ids:
        return []
    now = now or utcnow()
    # The event's own rows first (the case a notice points to, a user changed in this
    # transaction); then Core statements on the session's connection, in its transaction.
    db.session.flush()
    connection = db.session.connection()
    channels = registry.configured()
    users = {row.id: row for row in connection.execute(_recipients(channels), {"ids": list(ids)})}
    told: set[tuple[int, str]] = set()  # within this batch
    made = []
    for n in notices:
        for user_id in sorted(n.recipients):
            if user_id not in users or (user_id, n.key) in told:
                continue
            told.add((user_id, n.key))
            made.append(({"user_id": user_id, "case_id": n.case_id, "kind": n.kind, "data": n.data, "link": n.link,
                          "urgent": n.urgent, "event_key": n.key, "created_at": now}, n.urgent))
    if not made:
        return []
    # Core INSERTs of many rows each: a sweep's batch or one event's several recipients cost two
    # statements. A person told of the same event before, or by another transaction at the same
    # moment, is left out by the unique (user_id, event_key), never an error that would undo the event.
    inserted = {(user_id, key): notification_id for notification_id, user_id, key in connection.execute(
        _insert_new_notifications(connection.dialect.name), [row for row, _urgent in made])}
    if len(inserted) < len(made):
        log.debug("notifications already written for these events left out",
                  extra={"kinds": sorted({n.kind for n in notices}), "outcome": "duplicate"})
    rows = [(inserted[(row["user_id"], row["event_key"])], urgent, users[row["user_id"]])
            for row, urgent in made if (row["user_id"], row["event_key"]) in inserted]
    if channels and rows:
        plan = _Plan(now)
        # Each recipient's mode and address per channel, once for all their notices.
        ways = {}
        for _id, _urgent, user in rows:
            if user.id not in ways:
                values = user._asdict()  # a dict's get: a Row's builds an exception for a missing key
                ways[user.id] = [(name, *_way(user, values, name, channel)) for name, channel in channels.items()]
        _insert_deliveries(connection, [plan.delivery(notification_id, urgent, user, name, mode, reachable)
                                        for notification_id, urgent, user in rows
                                        for name, mode, reachable in ways[user.id]])
    return [notification_id for notification_id, _urgent, _user in rows]


def _insert_new_notifications(dialect: str):
    """INSERT ... ON CONFLICT (user_id, event_key) DO NOTHING RETURNING, in the database's dialect."""
    if dialect not in _INSERTS:
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        table = Notification.__table__
        _INSERTS[dialect] = (dialect_insert(table).on_conflict_do_nothing(index_elements=["user_id", "event_key"])
                             .returning(table.c.id, table.c.user_id, table.c.event_key))
    return _INSERTS[dialect]


def _insert_deliveries(connection, deliveries: list[dict]) -> None:
    """INSERT the delivery rows, handed to the database driver as one executemany. An event's
    deliveries are many rows of few distinct values (the same instant, the same statuses):
    each distinct value goes through its column type's bind processor once, where a Core
    executemany processes every parameter of every row (a fifth of the write's time with three
    channels)."""
    dialect = connection.dialect
    if dialect.name not in _DRIVER_INSERTS:
        table = Delivery.__table__
        compiled = table.insert().compile(dialect=dialect, column_keys=list(_DELIVERY_COLUMNS))
        keys = tuple(compiled.positiontup) if compiled.positional else _DELIVERY_COLUMNS
        assert set(keys) == set(_DELIVERY_COLUMNS), keys  # every column is a parameter, by its key
        processors = tuple(table.c[key].type.dialect_impl(dialect).bind_processor(dialect) for key in keys)
        _DRIVER_INSERTS[dialect.name] = (str(compiled), keys, processors, compiled.positional)
    sql, keys, processors, positional = _DRIVER_INSERTS[dialect.name]
    done: dict = {}

    def value(i: int, v):
        if processors[i] is None or v is None:
            return v
        if (i, v) not in done:
            done[(i, v)] = processors[i](v)
        return done[(i, v)]

    rows = [tuple(value(i, row[key]) for i, key in enumerate(keys)) for row in deliveries]
    connection.exec_driver_sql(sql, rows if positional else [dict(zip(keys, row)) for row in rows])


def _way(user, values: dict, name: str, channel) -> tuple[str, bool]:
    """How ``user`` (a row of _recipients, ``values`` its columns) wants to hear on channel
    ``name``, and whether the channel has an address for them."""
    mode = values.get(f"{name}_mode") or "immediate"
    if mode == "off":
        return mode, False
    known = values.get(f"{name}_reachable")
    return mode, bool(known) if known is not None else bool(channel.addresses(user))


def _digest_time(user) -> time:
    """The time of day of the daily digest where ``user`` (a User or a recipient row) works."""
    from casemgmt.directory.services import district_settings

    return district_settings(user.area_code).digest_time


class _Plan:
    """When each delivery of one write is due, as the module's docstring says; a district's
    digest time is looked up once per write."""

    def __init__(self, now: datetime):
        self.now = now
        self.quiet_until = quiet_until(now) or now
        self.digest_at: dict[str | None, datetime] = {}

    def _digest(self, user) -> datetime:
        if user.area_code not in self.digest_at:
            self.digest_at[user.area_code] = next_digest(_digest_time(user), self.now)
        return self.digest_at[user.area_code]

    def delivery(self, notification_id: int, urgent: bool, user, name: str, mode: str, reachable: bool) -> dict:
        """The delivery row of one notification on one channel."""
        row = {"notification_id": notification_id, "user_id": user.id, "channel": name, "status": "pending",
               "digest": False, "attempts": 0, "next_attempt_at": self.now, "last_error": None,
               "created_at": self.now}
        if mode == "off":
            row.update(status="skipped", last_error="off in the user's preferences", next_attempt_at=None)
        elif not reachable:
            row.update(status="skipped", last_error="no address", next_attempt_at=None)
        elif mode == "daily" and not urgent:
            row.update(digest=True, next_attempt_at=self._digest(user))
        elif not urgent:
            row["next_attempt_at"] = self.quiet_until
        return row
