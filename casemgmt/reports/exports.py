"""Case-list exports (CSV, XLSX) in the user's scope and masking; large ones in the background.

Rows are read in keyset pages and written as they come, so memory stays flat whatever the size
(casemgmt.xlsx writes the sheet a row at a time).
"""
from __future__ import annotations

import secrets
import tempfile
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_babel import force_locale, format_number, get_locale, gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from werkzeug.exceptions import NotFound

from casemgmt import storage
from casemgmt.access import case_accesses, owns_export
from casemgmt.audit import services as audit
from casemgmt.cases import listing
from casemgmt.cases.identity import age_on, initials
from casemgmt.cases.models import Case
from casemgmt.cases.records import CaseFilters, filtered_cases, older_than
from casemgmt.csvcells import CsvFile
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.transactions import after_commit
from casemgmt.i18n import local_zone
from casemgmt.reports.models import ExportJob
from casemgmt.xlsx import MAX_ROWS, SheetFull, SheetWriter

BACKGROUND_OVER = 1000  # cases; CASEMGMT_EXPORT_BACKGROUND_OVER sets another
FORMATS = ("csv", "xlsx")


# The columns of an export, each with its width in the XLSX sheet (characters).
COLUMNS = [(_l("Case number"), 18), (_l("Stage"), 13), (_l("Status"), 8), (_l("Risk"), 8), (_l("Urgent"), 7),
           (_l("Child"), 24), (_l("Sex"), 10), (_l("Age"), 5), (_l("Village"), 32), (_l("Kecamatan"), 26),
           (_l("Concerns"), 30), (_l("Social worker"), 20), (_l("Due"), 16), (_l("Overdue"), 8),
           (_l("Registered"), 11)]


def columns() -> list[str]:
    return [str(label) for label, _width in COLUMNS]


def _pages(user, filters: CaseFilters, size: int = 1000):
    """Matching cases as plain rows (cases.listing), newest first, a page at a time."""
    base = filtered_cases(user, filters, base=listing.LIST)
    last = None
    while True:
        query = base
        if last is not None:
            query = query.where(*older_than(*last))
        rows = listing.read(query.order_by(Case.created_at.desc(), Case.id.desc()).limit(size))
        if not rows:
            return
        yield rows
        last = (rows[-1].created_at, rows[-1].id)


def export_labels() -> dict[str, dict[str, str]]:
    """The codes an export writes, as words in the language in force (evaluated once per file)."""
    from casemgmt import codes
    from casemgmt.templating import stage_names
    from casemgmt.workflow.labels import CASE_STATUS_LABELS, RISK_LABELS

    def words(mapping):
        return {code: str(label) for code, label in mapping.items()}

    return {"stage": stage_names(), "status": words(CASE_STATUS_LABELS), "risk": words(RISK_LABELS),
            "sex": words(codes.SEXES), "concern": words(codes.CONCERNS)}


class PlaceNames:
    """Kecamatan names by code, read once each (a district has a few dozen)."""

    def __init__(self):
        self._names: dict[str, str] = {}

    def __call__(self, code: str) -> str:
        if code not in self._names:
            from casemgmt.directory.models import Area

            self._names[code] = db.session.scalar(select(Area.name).where(Area.code == code)) or ""
        return self._names[code]


def _place(name: str, code: str) -> str:
    return f"{name} ({code})" if name else code


def row_for(row, access, now: datetime, zone, labels: dict, kecamatan_name=None) -> list:
    """One row, masked as the case page would be for this user (``access`` is case_access's).
    Codes are written as words (``labels``: export_labels()), places as names beside their codes."""
    due, created = row.due_at, row.created_at  # aware UTC: UTCDateTime applies to Core queries too
    kecamatan = ".".join(row.area_code.split(".")[:3])

    def word(kind, code):
        return labels[kind].get(code, code) if code else ""

    # Urgent and Overdue are 1/0 numbers, which a spreadsheet can sum.
    return [row.number, word("stage", row.stage), word("status", row.status), word("risk", row.risk_level),
            1 if row.urgent else 0,
            row.child_name if access.identity else initials(row.child_name), word("sex", row.child_sex),
            age_on(row.child_birth_date, now.date()) if row.child_birth_date else "",
            _place(row.area_display if row.area_name else "", row.area_code),
            _place(kecamatan_name(kecamatan) if kecamatan_name else "", kecamatan),
            ", ".join(word("concern", c) for c in row.concerns) if access.details else "",
            row.worker_name or "",
            due.astimezone(zone).strftime("%Y-%m-%d %H:%M") if due and row.status == "open" else "",
            1 if row.overdue(now) else 0, created.astimezone(zone).strftime("%Y-%m-%d")]


# What a district that transferred a case out is not told: who holds it now, and by when.
_HELD_NOW = (_l("Social worker"), _l("Due"), _l("Overdue"))


def _as_of_transfer(cells: list, access) -> list:
    if access.until is None:
        return cells
    held_now = {str(label) for label in _HELD_NOW}
    return [("" if isinstance(cell, str) else 0) if str(label) in held_now else cell
            for (label, _width), cell in zip(COLUMNS, cells)]


def count(user, filters: CaseFilters) -> int:
    query = filtered_cases(user, filters).with_only_columns(func.count(Case.id))
    return db.session.scalar(query) or 0


def write(path: Path, fmt: str, user, filters: CaseFilters, progress=None, limit: int | None = None) -> int:
    """Write the matching cases to ``path``; returns how many. Memory stays flat whatever the size."""
    now = utcnow()
    zone = local_zone()
    labels = export_labels()
    kecamatan_name = PlaceNames()
    n = 0
    sheet = (CsvFile(path, columns()) if fmt == "csv"
             else SheetWriter(path, _("Cases"), columns(), widths=[width for _label, width in COLUMNS]))
    with sheet:
        for page in _pages(user, filters):
            accesses = case_accesses(user, page)  # an agency's in one query per page
            for row in page:
                if limit is not None and n >= limit:
                    return n
                n += 1
                sheet.append(_as_of_transfer(row_for(row, accesses[row.id], now, zone, labels, kecamatan_name),
                                             accesses[row.id]))
                if progress and n % 1000 == 0:
                    progress(n)
    return n


def start(user, filters: CaseFilters, fmt: str) -> tuple[ExportJob, bool]:
    """An export job; small ones are written at once (done=True), large ones queued for the worker."""
    if fmt not in FORMATS:
        raise ValidationFailed({"format": _("Choose CSV or XLSX.")})
    problems = filters.problems()
    if problems:
        raise ValidationFailed(problems)
    total = count(user, filters)
    if fmt == "xlsx" and total > MAX_ROWS - 1:
        raise ValidationFailed({"format": _("An XLSX file holds at most %(rows)s cases: choose CSV or narrow "
                                            "the filters.", rows=format_number(MAX_ROWS - 1))})
    job = ExportJob(user_id=user.id, format=fmt, filters=asdict(filters), status="queued", total=total,
                    locale=str(get_locale()))
    db.session.add(job)
    db.session.flush()
    audit.record("export_requested", "export", job.id, actor=user, after={"format": fmt, "rows": total,
                                                                          "filters": asdict(filters)})
    job_id = job.id
    if total <= current_app.config.get("EXPORT_BACKGROUND_OVER", BACKGROUND_OVER):
        after_commit(lambda: run(job_id))  # written before the request answers
        return job, True
    after_commit(lambda: enqueue(job_id))  # the worker reads the job once it is saved
    return job, False


def enqueue(job_id: int) -> bool:
    """Hand the job to the background worker. The queue (Redis) away: the job stays queued in
    the database and requeue_waiting hands it over once the queue answers again."""
    from casemgmt import jobs

    try:
        jobs.run_export(job_id)
    except Exception as exc:  # redis.ConnectionError, sqlite3.OperationalError: the queue, not the export
        current_app.logger.warning("export %s not queued, kept for requeue_waiting: %s", job_id,
                                   type(exc).__name__)
        return False
    return True


def requeue_waiting(older_than_seconds: int) -> int:
    """Queue again the exports still waiting after ``older_than_seconds``: not queued while the
    queue was away, or lost from it (Redis restarted without its data). One queued twice runs
    once (run claims it)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    waiting = db.session.scalars(select(ExportJob.id).where(ExportJob.status == "queued",
                                                            ExportJob.created_at <= cutoff)).all()
    db.session.rollback()
    return sum(enqueue(job_id) for job_id in waiting)


SHEET_FULL = "sheet_full"  # ExportJob.error when the cases outgrew an XLSX sheet
INTERRUPTED = "interrupted"  # ExportJob.error when its worker stopped beating twice
MAX_ATTEMPTS = 2


class Superseded(Exception):
    """This run's claim on the job was taken over by a later run (recover_stalled)."""


def recover_stalled(older_than_seconds: int) -> int:
    """Exports whose worker died mid-run (its heartbeat older than ``older_than_seconds``) are
    queued again, once; interrupted a second time, they fail and the user is told to ask again."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    stalled = db.session.execute(select(ExportJob.id, ExportJob.attempts).where(
        ExportJob.status == "running", ExportJob.heartbeat_at <= cutoff)).all()
    again = []
    for job_id, attempts in stalled:
        retry = attempts < MAX_ATTEMPTS
        values = {"status": "queued", "done": 0} if retry else \
            {"status": "failed", "error": INTERRUPTED, "finished_at": utcnow()}
        # Only if no run has beaten or finished since it was read.
        moved = db.session.execute(update(ExportJob).where(
            ExportJob.id == job_id, ExportJob.status == "running", ExportJob.attempts == attempts,
            ExportJob.heartbeat_at <= cutoff).values(**values)).rowcount
        if moved and retry:
            again.append(job_id)
        elif moved:
            current_app.logger.warning("export %s interrupted twice, failed", job_id)
    db.session.commit()
    return sum(enqueue(job_id) for job_id in again)


def run(job_id: int) -> None:
    from casemgmt.accounts.models import User

    # Claimed once: a job queued twice (requeue_waiting) or taken by two workers runs once.
    job = db.session.get(ExportJob, job_id)
    if job is None:
        return
    attempt = job.attempts + 1
    claimed = db.session.execute(update(ExportJob).where(
        ExportJob.id == job_id, ExportJob.status == "queued", ExportJob.attempts == job.attempts)
        .values(status="running", attempts=attempt, heartbeat_at=utcnow())).rowcount
    db.session.commit()
    if not claimed:
        return
    mine = (ExportJob.id == job_id, ExportJob.status == "running", ExportJob.attempts == attempt)
    job = db.session.get(ExportJob, job_id)
    user = db.session.get(User, job.user_id)
    key = f"exports/{job.id}-{secrets.token_hex(8)}.{job.format}"

    def progress(n):
        if not db.session.execute(update(ExportJob).where(*mine).values(done=n, heartbeat_at=utcnow())).rowcount:
            db.session.rollback()
            raise Superseded()
        db.session.commit()

    # Written to a scratch file first (the writers seek), then into shared storage with the
    # job's "done", in one transaction: the file is there for whichever server is asked for it.
    with tempfile.TemporaryDirectory(prefix="casemgmt-export-") as scratch:
        path = Path(scratch) / f"export.{job.format}"
        try:
            with force_locale(job.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                written = write(path, job.format, user, CaseFilters(**job.filters), progress)
        except Superseded:
            return
        except Exception as exc:  # the job reports what failed instead of hanging "running"
            db.session.rollback()
            # More cases match than when the export was asked for, past what a sheet holds: the
            # user is told so (SHEET_FULL) rather than given a file with cases silently left out.
            db.session.execute(update(ExportJob).where(*mine).values(
                status="failed", error=SHEET_FULL if isinstance(exc, SheetFull) else repr(exc)[:500],
                finished_at=utcnow()))
            db.session.commit()
            if not isinstance(exc, SheetFull):
                raise
            return
        storage.save_path(key, path)
    if not db.session.execute(update(ExportJob).where(*mine).values(
            status="done", done=written, total=written, storage_key=key, finished_at=utcnow())).rowcount:
        db.session.rollback()  # a later run took it over: its file is the one kept
        return
    audit.record("export_finished", "export", job_id, actor=user, after={"rows": written})
    db.session.commit()


def job_of(user, job_id: int) -> ExportJob:
    """The user's own export job; anyone else's, or none, is 404."""
    job = db.session.get(ExportJob, job_id)
    if not owns_export(user, job):
        raise NotFound()
    return job


def open_download(job: ExportJob, viewer) -> str:
    """The storage key of the finished file, for its requester only; the download is logged."""
    if not owns_export(viewer, job):
        raise NotFound()
    audit.log_access(viewer, "download_export", "export", job.id)
    db.session.flush()
    return job.storage_key
