"""Idempotency-Key: the same key from the same user returns the first answer and creates nothing."""
from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from casemgmt.api.models import IdempotencyRecord
from casemgmt.errors import Busy, ValidationFailed
from casemgmt.extensions import db

# Written by versions before the answer shared the record's transaction; never committed now.
IN_PROGRESS = -1


def json_response(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    return response


def idempotent(user, endpoint: str, produce):
    """Run ``produce() -> (body, status)`` once per Idempotency-Key.

    The key is claimed (a row under the unique key user+key, flushed) before ``produce`` runs,
    and its answer stored in the same row: both are committed with what ``produce`` wrote, at the
    end of the request, or rolled back with it. A retry while the first attempt runs waits on the
    unique key and then replays its answer; a retry after a crash at any point finds no row and
    does the work once. A failed attempt leaves nothing, so the corrected request may reuse the key.
    """
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        body, status = produce()
        return json_response(body, status)
    if len(key) > 200:
        raise ValidationFailed({"Idempotency-Key": _("At most 200 characters.")})
    existing = _find(user, key)
    if existing is not None and existing.status_code == IN_PROGRESS:
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == existing.id))
        existing = None
    if existing is not None:
        return _replay(existing, endpoint)
    record = IdempotencyRecord(user_id=user.id, key=key, endpoint=endpoint, status_code=IN_PROGRESS, body={})
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        # Another attempt with the key committed first (this one waited on the unique key).
        db.session.rollback()
        first = _find(user, key)
        if first is None:  # and then rolled back: this attempt may go on when sent again
            raise Busy()
        return _replay(first, endpoint)
    body, status = produce()
    record.status_code, record.body = status, body
    db.session.flush()
    return json_response(body, status)


def _find(user, key: str) -> IdempotencyRecord | None:
    return db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id,
                                                             IdempotencyRecord.key == key))


def _replay(record: IdempotencyRecord, endpoint: str):
    if record.endpoint != endpoint:
        raise ValidationFailed({"Idempotency-Key": _("This key was already used for another request.")})
    response = json_response(record.body, record.status_code)
    response.headers["Idempotent-Replayed"] = "true"
    return response
