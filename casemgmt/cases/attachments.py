"""Attachments of a case: checked by content, kept in shared storage, every download logged."""
from __future__ import annotations

from datetime import datetime

import hashlib
import secrets
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import bindparam, select

from casemgmt.audit import services as audit
from casemgmt.cases.models import (
    Attachment,
    Case,
)
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt import storage
from casemgmt.extensions import db
from casemgmt.cases.intake import text_or_none
from casemgmt.cases.timeline import add_event

_ATTACHMENTS = select(Attachment).where(Attachment.case_id == bindparam("case_id")).order_by(
    Attachment.uploaded_at.desc())


def attachments(case: Case, until: datetime | None = None) -> list[Attachment]:
    """The case's documents, newest first; ``until``: those uploaded up to that moment only."""
    if until is not None:
        return list(db.session.scalars(_ATTACHMENTS.where(Attachment.uploaded_at <= until), {"case_id": case.id}))
    return list(db.session.scalars(_ATTACHMENTS, {"case_id": case.id}))


# ---- attachments ------------------------------------------------------------------------------

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)


def sniff_type(head: bytes) -> tuple[str, str] | None:
    """The file's type from its first bytes, not from its name or the browser's say-so."""
    for magic, mime, ext in _SIGNATURES:
        if head.startswith(magic):
            return mime, ext
    return None


def add_attachment(case: Case, stream, filename: str, actor, description: str | None = None) -> Attachment:
    data = stream.read(MAX_ATTACHMENT_BYTES + 1)
    if not data:
        raise ValidationFailed({"file": _("Choose a file.")})
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ValidationFailed({"file": _("The file is larger than 10 MB.")})
    kind = sniff_type(data[:16])
    if kind is None:
        raise ValidationFailed({"file": _("Only PDF, JPEG and PNG files can be attached.")})
    mime, ext = kind
    safe_name = "".join(c for c in Path(filename or "file").name if c.isalnum() or c in "._- ")[:150].strip()
    if not safe_name.lower().endswith(ext) and not (ext == ".jpg" and safe_name.lower().endswith(".jpeg")):
        safe_name = (safe_name or "lampiran") + ext
    key = f"{utcnow():%Y/%m}/{secrets.token_hex(16)}{ext}"
    storage.save(key, data)  # in the same transaction as its row: neither without the other
    row = Attachment(case_id=case.id, filename=safe_name, content_type=mime, size=len(data),
                     sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                     description=text_or_none(description, 200), uploaded_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    add_event(case, "attachment_added", actor, data={"attachment_id": row.id, "filename": safe_name})
    audit.record("attachment_added", "case", case.id, actor=actor,
                 after={"attachment_id": row.id, "filename": safe_name, "sha256": row.sha256})
    db.session.flush()
    return row


def open_attachment(row: Attachment, viewer) -> str:
    """The storage key of an attachment's file, for someone the caller has checked may see it;
    logged."""
    audit.log_access(viewer, "download_attachment", "attachment", row.id, case_id=row.case_id)
    db.session.flush()
    return row.storage_key
