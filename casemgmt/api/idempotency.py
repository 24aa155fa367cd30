"""Idempotency-Key: the same key from the same user returns the first answer and creates nothing."""
from __future__ import annotations

from datetime import timedelta

from flask import jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from casemgmt.api.models import IdempotencyRecord
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ServiceError, ValidationFailed
from casemgmt.extensions import db

IN_PROGRESS = -1
# A placeholder this old belongs to an attempt that will never finish: killed (gunicorn ends a
# worker silent for 30 s), or failed while the database was too busy to remove it (errors.Busy,
# whose 503 asks the client to send the request again). The next attempt with the key takes it
# over instead of being told, forever, that the request is still in progress.
ABANDONED_AFTER = timedelta(minutes=2)


class RequestInProgress(ServiceError):
    status = 409
    code = "request_in_progress"
    default_text = _l("The same request is still being processed; retry in a moment.")


def json_response(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    return response


def idempotent(user, endpoint: str, produce):
    """Run ``produce() -> (body, status)`` once per Idempotency-Key.

    A placeholder row is committed first, so a retry that arrives while the first attempt is
    still running is told so (409) instead of creating a second record. A failed attempt
    removes its placeholder, so the client can correct the request and retry with the key.
    """
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        body, status = produce()
        return json_response(body, status)
    if len(key) > 200:
        raise ValidationFailed({"Idempotency-Key": _("At most 200 characters.")})
    existing = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id,
                                                                 IdempotencyRecord.key == key))
    if existing is not None and _abandoned(existing, endpoint):
        # Removed only if it is still that abandoned placeholder: of two retries at once, one
        # removes it and goes on, the other meets the first's new placeholder (409) below.
        db.session.execute(delete(IdempotencyRecord).where(
            IdempotencyRecord.id == existing.id, IdempotencyRecord.status_code == IN_PROGRESS))
        db.session.commit()
        existing = None
    if existing is not None:
        return _replay(existing, endpoint)
    placeholder = IdempotencyRecord(user_id=user.id, key=key, endpoint=endpoint, status_code=IN_PROGRESS, body={})
    db.session.add(placeholder)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.user_id == user.id,
                                                                     IdempotencyRecord.key == key))
        return _replay(existing, endpoint)
    placeholder_id = placeholder.id
    try:
        body, status = produce()
    except Exception:
        db.session.rollback()
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == placeholder_id))
        db.session.commit()
        raise
    record = db.session.get(IdempotencyRecord, placeholder_id)
    record.status_code, record.body = status, body
    db.session.commit()
    return json_response(body, status)


def _abandoned(record: IdempotencyRecord, endpoint: str) -> bool:
    return (record.status_code == IN_PROGRESS and record.endpoint == endpoint
            and record.created_at < utcnow() - ABANDONED_AFTER)


def _replay(record: IdempotencyRecord, endpoint: str):
    if record.endpoint != endpoint:
        raise ValidationFailed({"Idempotency-Key": _("This key was already used for another request.")})
    if record.status_code == IN_PROGRESS:
        raise RequestInProgress()
    response = json_response(record.body, record.status_code)
    response.headers["Idempotent-Replayed"] = "true"
    return response
