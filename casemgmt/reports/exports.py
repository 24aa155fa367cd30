"""Case-list exports (CSV, XLSX) in the user's scope and masking; large ones in the background.

Rows are read in keyset pages and written as they come, so memory stays flat whatever the size
(XlsxWriter's constant_memory mode writes each row out at once).
"""
from __future__ import annotations

import csv
import secrets
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func

from casemgmt.access import case_access
from casemgmt.audit import services as audit
from casemgmt.cases.identity import age_on, initials
from casemgmt.cases.models import Case
from casemgmt.cases.services import CaseFilters, filtered_cases, list_cases
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.reports.models import ExportJob

BACKGROUND_OVER = 1000
FORMATS = ("csv", "xlsx")


def columns() -> list[str]:
    return [_("Case number"), _("Stage"), _("Status"), _("Risk"), _("Urgent"), _("Child"), _("Sex"), _("Age"),
            _("Village"), _("Kecamatan"), _("Concerns"), _("Social worker"), _("Due"), _("Overdue"), _("Registered")]


def row_for(case, user, now: datetime) -> list:
    """One row, masked as the case page would be for this user."""
    from casemgmt.templating import stage_label

    access = case_access(user, case)
    child = case.child
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return [case.number, stage_label(case.stage), case.status, case.risk_level or "", "1" if case.urgent else "0",
            child.name if access.identity else initials(child.name), child.sex,
            age_on(child.birth_date, now.date()) if child.birth_date else "", child.area.name,
            ".".join(case.area_code.split(".")[:3]),
            ", ".join(case.concerns) if access.details else "",
            case.assigned_worker.full_name if case.assigned_worker else "",
            case.due_at.astimezone(zone).strftime("%Y-%m-%d %H:%M") if case.due_at and case.is_open else "",
            "1" if case.overdue(now) else "0", case.created_at.astimezone(zone).strftime("%Y-%m-%d")]


def count(user, filters: CaseFilters) -> int:
    query = filtered_cases(user, filters).with_only_columns(func.count(Case.id))
    return db.session.scalar(query) or 0


def iterate(user, filters: CaseFilters):
    """Every matching case, read a page at a time (keyset), so memory stays flat."""
    cursor = None
    while True:
        cases, cursor = list_cases(user, filters, limit=100, cursor=cursor)
        yield from cases
        if cursor is None:
            return


def write(path: Path, fmt: str, user, filters: CaseFilters, progress=None) -> int:
    now = utcnow()
    n = 0
    if fmt == "csv":
        with path.open("w", newline="", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns())
            for case in iterate(user, filters):
                writer.writerow(row_for(case, user, now))
                n += 1
                if progress and n % 200 == 0:
                    progress(n)
    else:
        import xlsxwriter

        book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = book.add_worksheet(_("Cases"))
        bold = book.add_format({"bold": True})
        sheet.write_row(0, 0, columns(), bold)
        for case in iterate(user, filters):
            n += 1
            sheet.write_row(n, 0, row_for(case, user, now))
            if progress and n % 200 == 0:
                progress(n)
        book.close()
    return n


def export_root() -> Path:
    root = Path(current_app.instance_path) / "exports"
    root.mkdir(parents=True, exist_ok=True)
    return root


def start(user, filters: CaseFilters, fmt: str) -> tuple[ExportJob, bool]:
    """An export job; small ones are written at once (done=True), large ones queued for the worker."""
    if fmt not in FORMATS:
        raise ValidationFailed({"format": _("Choose CSV or XLSX.")})
    problems = filters.problems()
    if problems:
        raise ValidationFailed(problems)
    total = count(user, filters)
    job = ExportJob(user_id=user.id, format=fmt, filters=asdict(filters), status="queued", total=total)
    db.session.add(job)
    db.session.flush()
    audit.record("export_requested", "export", job.id, actor=user, after={"format": fmt, "rows": total,
                                                                          "filters": asdict(filters)})
    db.session.commit()
    if total <= BACKGROUND_OVER:
        run(job.id)
        return job, True
    from casemgmt import tasks

    tasks.run_export(job.id)
    return job, False


def run(job_id: int) -> None:
    from casemgmt.accounts.models import User

    job = db.session.get(ExportJob, job_id)
    user = db.session.get(User, job.user_id)
    job.status = "running"
    db.session.commit()
    key = f"{job.id}-{secrets.token_hex(8)}.{job.format}"
    path = export_root() / key

    def progress(n):
        db.session.query(ExportJob).filter_by(id=job_id).update({"done": n})
        db.session.commit()

    try:
        written = write(path, job.format, user, CaseFilters(**job.filters), progress)
    except Exception as exc:  # the job reports what failed instead of hanging "running"
        db.session.rollback()
        job = db.session.get(ExportJob, job_id)
        job.status, job.error, job.finished_at = "failed", repr(exc)[:500], utcnow()
        db.session.commit()
        path.unlink(missing_ok=True)
        raise
    job = db.session.get(ExportJob, job_id)
    job.status, job.done, job.total, job.storage_key, job.finished_at = "done", written, written, key, utcnow()
    audit.record("export_finished", "export", job.id, actor=user, after={"rows": written})
    db.session.commit()


def path_of(job: ExportJob) -> Path:
    return export_root() / job.storage_key
