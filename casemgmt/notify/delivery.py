"""The outbox's worker: claims the deliveries that are due, sends each through its channel,
and writes down what happened (the delivery log).

Claiming is one UPDATE ... WHERE status = 'pending' (with FOR UPDATE SKIP LOCKED on
PostgreSQL), committed before anything is sent: two workers running at once never claim the
same delivery. Each outcome is committed as soon as it is known.

At most once: a delivery left 'sending' (the worker died between claiming and writing the
outcome) may or may not have gone out. It is not sent again: after STALE_CLAIM it is marked
failed with that reason, for an admin to read in the log. A lost e-mail is the lesser harm
than telling twice; the in-app notice is there either way.
"""
from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update

from casemgmt.accounts.models import User
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.notify import registry
from casemgmt.notify.channels import DeliveryFailed
from casemgmt.notify.messages import digest_message, language_of, message_for
from casemgmt.notify.models import Delivery, Notification
from casemgmt.transactions import commit

log = logging.getLogger(__name__)

# Seconds to wait after the 1st, 2nd, ... failed attempt; after the last, the delivery fails.
BACKOFF = (60, 5 * 60, 30 * 60, 2 * 3600, 6 * 3600)
MAX_ATTEMPTS = len(BACKOFF) + 1
STALE_CLAIM = timedelta(minutes=15)
BATCH = 100


def claim(now: datetime, limit: int = BATCH) -> str | None:
    """Take up to ``limit`` due deliveries for this worker; answers the claim's token, or None
    when nothing is due. Commits."""
    commit()  # the UPDATE below starts the transaction: SQLite waits for the one writer
    token = uuid.uuid4().hex
    due = (select(Delivery.id).where(Delivery.status == "pending", Delivery.next_attempt_at <= now)
           .order_by(Delivery.next_attempt_at, Delivery.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    result = db.session.execute(
        update(Delivery).where(Delivery.id.in_(due.scalar_subquery()), Delivery.status == "pending")
        .values(status="sending", claim_token=token, claimed_at=now, attempts=Delivery.attempts + 1)
        .execution_options(synchronize_session=False))
    claimed = result.rowcount
    commit()
    return token if claimed else None


def expire_stale(now: datetime) -> int:
    """Deliveries a worker claimed and never finished: failed, not sent again (at most once)."""
    result = db.session.execute(
        update(Delivery).where(Delivery.status == "sending", Delivery.claimed_at < now - STALE_CLAIM)
        .values(status="failed", claim_token=None,
                last_error="the worker stopped while sending; not sent again (at most once)")
        .execution_options(synchronize_session=False))
    commit()
    return result.rowcount


def _finish(rows: list[Delivery], now: datetime, error: DeliveryFailed | None, counts: dict) -> None:
    for row in rows:
        row.claim_token = None
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        elif error.retry and row.attempts < MAX_ATTEMPTS:
            row.status, row.last_error = "pending", str(error)[:300]
            row.next_attempt_at = now + timedelta(seconds=BACKOFF[row.attempts - 1])
        else:
            row.status, row.last_error = "failed", str(error)[:300]
        outcome = "sent" if error is None else ("retry" if row.status == "pending" else "failed")
        counts[outcome] += 1
        log.info("notification delivery %s: %s", row.id, outcome,
                 extra={"delivery_id": row.id, "channel": row.channel, "outcome": outcome,
                        "attempts": row.attempts, **({"error": str(error)[:300]} if error else {})})
    commit()


def _send(channel, message, address, delivery_id: int) -> DeliveryFailed | None:
    try:
        channel.send(message, address, delivery_id=str(delivery_id))
    except DeliveryFailed as exc:
        return exc
    except Exception as exc:  # a fault of ours or of a library: retried, and logged in full
        log.exception("notification channel %s failed unexpectedly", channel.name)
        from casemgmt.notify.channels import TemporaryFailure

        return TemporaryFailure(f"unexpected error: {type(exc).__name__}")
    return None


def _send_all(channel, message, addresses: list[str], delivery_id: int) -> DeliveryFailed | None:
    """One message to each of the person's addresses on the channel (a push subscription per
    phone or browser). Delivered to any: sent, and not tried again (the others would get it
    twice). Delivered to none: the failure that says most (one worth retrying, if any)."""
    errors = [_send(channel, message, address, delivery_id) for address in addresses]
    if any(error is None for error in errors):
        return None
    return next((error for error in errors if error.retry), errors[0])


def send_claimed(token: str, channels: dict, counts: dict, now: datetime | None = None) -> None:
    """Send what the claim ``token`` holds: one message per delivery, one e-mail per person for
    the deliveries of their daily digest. Outcomes are dated ``now``, or each as it comes."""
    rows = db.session.execute(
        select(Delivery, Notification, User).join(Notification, Notification.id == Delivery.notification_id)
        .join(User, User.id == Delivery.user_id).where(Delivery.claim_token == token)
        .order_by(Delivery.id)).all()
    digests: dict[tuple[int, str], list] = defaultdict(list)
    for delivery, notification, user in rows:
        if delivery.digest:
            digests[(user.id, delivery.channel)].append((delivery, notification, user))
            continue
        channel = channels.get(delivery.channel)
        addresses = channel.addresses(user) if channel else []
        if channel is None or not addresses or not user.active:
            delivery.status, delivery.claim_token = "skipped", None
            delivery.last_error = "channel not configured" if channel is None else "no address"
            counts["skipped"] += 1
            commit()
            continue
        error = _send_all(channel, message_for(notification, language_of(user)), addresses, delivery.id)
        _finish([delivery], now or utcnow(), error, counts)
    for (_user_id, name), group in digests.items():
        user = group[0][2]
        channel = channels.get(name)
        addresses = channel.addresses(user) if channel else []
        deliveries = [d for d, _n, _u in group]
        if channel is None or not addresses or not user.active:
            for d in deliveries:
                d.status, d.claim_token, d.last_error = "skipped", None, "no address"
                counts["skipped"] += 1
            commit()
            continue
        message = digest_message([n for _d, n, _u in group], language_of(user))
        _finish(deliveries, now or utcnow(), _send_all(channel, message, addresses, deliveries[0].id), counts)


def deliver_due(now: datetime | None = None, limit: int = BATCH, max_batches: int | None = None) -> dict:
    """Send, once, what is due now, a batch at a time. Commits."""
    counts = {"sent": 0, "retry": 0, "failed": 0, "skipped": 0}
    counts["stale"] = expire_stale(now or utcnow())
    channels = registry.configured()
    batches = 0
    while max_batches is None or batches < max_batches:
        token = claim(now or utcnow(), limit)
        if token is None:
            break
        send_claimed(token, channels, counts, now)
        batches += 1
    return counts
