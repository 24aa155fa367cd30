"""Writing audit entries."""
from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import insert

from casemgmt.audit.models import AuditEntry
from casemgmt.extensions import db

# Never written into an audit row, whatever the caller passes.
_SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash"})


def _clean(values: dict | None) -> dict | None:
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in _SECRET_FIELDS}


def record(action: str, obj_type: str, obj_id, actor=None, before=None, after=None) -> AuditEntry:
    """Add an audit entry to the current transaction; the caller commits with the change."""
    entry = AuditEntry(
        action=action,
        object_type=obj_type,
        object_id=None if obj_id is None else str(obj_id),
        actor_id=getattr(actor, "id", None),
        before=_clean(before),
        after=_clean(after),
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the fields that changed, as (before, after)."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def log_access(user, action: str, obj_type: str, obj_id=None, case_id: int | None = None):
    """Record that ``user`` saw something of a child's record (in the caller's transaction)."""
    from casemgmt.audit.models import AccessLogEntry

    entry = AccessLogEntry(
        user_id=user.id,
        action=action,
        object_type=obj_type,
        object_id=None if obj_id is None else str(obj_id),
        case_id=case_id,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


def log_accesses(user, action: str, obj_type: str, obj_id, case_ids) -> None:
    """log_access for one object seen through several cases (a household): a row per case, written
    in one statement, so that a larger family costs no more statements."""
    from casemgmt.audit.models import AccessLogEntry

    rows = [{"user_id": user.id, "action": action, "object_type": obj_type,
             "object_id": None if obj_id is None else str(obj_id), "case_id": case_id,
             "ip_address": request.remote_addr if has_request_context() else None} for case_id in case_ids]
    if rows:
        db.session.execute(insert(AccessLogEntry), rows)
