"""The runs of a population import: the worker's (run_queued) and the command line's
(import_file), and the retention sweep. Like the other background jobs they commit their own
batches; the operations a request calls are in services, which only flush."""
from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select, update

from casemgmt import storage
from casemgmt.audit import services as audit
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.population import importer
from casemgmt.population.importer import BadExtract
from casemgmt.population.models import PopulationImport
from casemgmt.population.services import _check_district, _new_import, size_message, too_large


def enqueue(import_id: int) -> bool:
    """Hand the import to the worker. The queue away: the import stays queued in the database
    and requeue_waiting hands it over once the queue answers again."""
    from casemgmt import jobs

    try:
        jobs.import_population(import_id)
    except Exception as exc:  # redis.ConnectionError, sqlite3.OperationalError: the queue, not the import
        current_app.logger.warning("population import %s not queued, kept for requeue_waiting: %s", import_id,
                                   type(exc).__name__)
        return False
    return True


def requeue_waiting(older_than_seconds: int) -> int:
    """Queue again the imports still waiting after ``older_than_seconds`` (run_queued claims an
    import once, so one queued twice runs once)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    waiting = db.session.scalars(select(PopulationImport.id).where(PopulationImport.status == "queued",
                                                                   PopulationImport.created_at <= cutoff)).all()
    db.session.rollback()
    return sum(enqueue(import_id) for import_id in waiting)


def run_queued(import_id: int) -> None:
    """The worker's part: claim the import, copy the stored file to scratch, import it."""
    claimed = db.session.execute(update(PopulationImport).where(PopulationImport.id == import_id,
                                                                PopulationImport.status == "queued")
                                 .values(status="running")).rowcount
    db.session.commit()
    if not claimed:
        return
    job = db.session.get(PopulationImport, import_id)
    with tempfile.TemporaryDirectory(prefix="casemgmt-population-") as scratch:
        path = Path(scratch) / "extract"
        try:
            with storage.open_file(job.storage_key) as source, open(path, "wb") as target:
                shutil.copyfileobj(source, target, storage.CHUNK_BYTES)
        except storage.MissingFile:
            _fail(import_id, _("The uploaded file is gone; upload it again."))
            return
        run_file(import_id, path)


def import_file(user, path: Path, district: str, *, as_admin: bool = False) -> PopulationImport:
    """The CLI's import: the file read where it lies, in this process. ``as_admin``: the command
    line is the server's operator, who may load any district's extract."""
    if not as_admin:
        _check_district(user, district)
    if district.count(".") != 1:
        raise BadExtract(_("Give the district as its code, for example 73.06."))
    if too_large(path.stat().st_size):
        raise BadExtract(size_message())
    job = _new_import(user, district, path.name)
    job.status = "running"
    db.session.commit()
    run_file(job.id, path)
    return db.session.get(PopulationImport, job.id)


def _fail(import_id: int, message: str) -> None:
    db.session.rollback()
    importer.drop_partial(import_id)
    job = db.session.get(PopulationImport, import_id)
    job.status, job.message, job.finished_at = "failed", message, utcnow()
    if job.storage_key:
        storage.delete_file(job.storage_key)
        job.storage_key = None
    audit.record("population_import_failed", "population_import", import_id, after={"message": message[:200]})
    db.session.commit()


def run_file(import_id: int, path: Path) -> None:
    """Import the file at ``path`` into the import ``import_id`` (status running). The district's
    extract in use is switched in one transaction with the import marked done; the one it
    replaces is purged after."""
    job = db.session.get(PopulationImport, import_id)
    try:
        kind = importer.sniff_path(path)
        importer.load(job, path, kind)
        job = db.session.get(PopulationImport, import_id)
        importer.list_rows(import_id)
        importer.count_rows(import_id)
        old = importer.switch(job)
        if old is not None:
            importer.carry_over(old, import_id)
        job.status, job.finished_at = "done", utcnow()
        if job.storage_key:
            storage.delete_file(job.storage_key)
            job.storage_key = None
        audit.record("population_imported", "population_import", import_id,
                     after={"rows": job.rows, "accepted": job.accepted, "rejected": job.rejected, "replaced": old})
        db.session.commit()
    except BadExtract as exc:
        _fail(import_id, exc.message)
        return
    except Exception:
        _fail(import_id, _("The import stopped on an error; the previous extract is still in use."))
        raise
    if old is not None:
        importer.purge(old)
        db.session.commit()


def sweep_retention(now=None) -> int:
    """Purge every extract older than its district's retention (population_retention_days),
    keeping the rows that became cases. Returns how many extracts were purged."""
    from casemgmt.directory.services import district_settings

    now = now or utcnow()
    purged = 0
    for job in db.session.scalars(select(PopulationImport).where(PopulationImport.purged_at.is_(None),
                                                                 PopulationImport.status == "done")).all():
        days = district_settings(job.district_code).population_retention_days
        if job.created_at <= now - timedelta(days=days):
            importer.purge(job.id)
            purged += 1
            db.session.commit()
    return purged
