"""Background jobs (huey): SQLite-backed on one machine, Redis where several servers share the work.

Run the worker with:  huey_consumer casemgmt.jobs.huey
"""
from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from huey import RedisHuey, SqliteHuey, crontab
from huey.exceptions import CancelExecution


def _instance_path() -> Path:
    return Path(os.environ.get("CASEMGMT_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance")


_redis = os.environ.get("CASEMGMT_HUEY_REDIS_URL")
if _redis:
    from casemgmt.ops import redis_client

    redis_client("CASEMGMT_HUEY_REDIS_URL", _redis)  # a missing client is named with its setting
    huey = RedisHuey("casemgmt", url=_redis)
else:
    _instance = _instance_path()
    _instance.mkdir(parents=True, exist_ok=True)
    huey = SqliteHuey("casemgmt", filename=str(_instance / "huey.db"),
                      immediate=os.environ.get("CASEMGMT_HUEY_IMMEDIATE") == "1")

_app = None
log = logging.getLogger(__name__)


def _check_services_before_consuming() -> None:
    """The worker, like an app server, refuses to start while the database or its queue does
    not answer (casemgmt.ops.check_services), with the setting named."""
    from casemgmt import config as config_module
    from casemgmt.ops import check_services

    cfg = config_module.load(str(_instance_path()))
    if cfg["CHECK_SERVICES"]:
        check_services(cfg)


def use_app(app) -> None:
    """Run jobs inside the given app (tests; an embedding server)."""
    global _app
    _app = app


def app():
    """One app per worker process, made on first use."""
    global _app
    if _app is None:
        from casemgmt import create_app
        from casemgmt.dbsetup import WORKER_MMAP_BYTES

        _app = create_app({"SQLITE_MMAP_BYTES": WORKER_MMAP_BYTES})
    return _app


clock = time.time  # what claim_period reads the time from


# Each periodic job's period in seconds (as its crontab repeats), for claim_period.
PERIODS: dict[str, int] = {}


def periodic(seconds: int, **cron):
    """A periodic job (huey's crontab) that runs once a period however many workers run."""
    def decorate(job):
        task = huey.periodic_task(crontab(**cron))(job)
        PERIODS[task.task_class.__name__] = seconds  # a run's task.name
        return task
    return decorate


def claim_period(name: str, seconds: int, now: float | None = None) -> bool:
    """Whether this run of periodic job ``name`` is the first of its period (``seconds`` long,
    counted from the epoch as the crontab is). Every consumer's scheduler enqueues every periodic
    job, so with several workers each period's job arrives once per worker: the first to claim
    the period in the queue's storage (one atomic put-if-empty, in Redis or in the SQLite queue)
    runs it, the others skip it. The claim of the period before is removed."""
    period = int((clock() if now is None else now) // seconds)
    if not huey.storage.put_if_empty(f"casemgmt:period:{name}:{period}", b"1"):
        return False
    huey.storage.delete_data(f"casemgmt:period:{name}:{period - 1}")
    return True


@huey.pre_execute()
def once_per_period(task):
    seconds = PERIODS.get(task.name)
    if seconds is None:
        return
    now = clock()
    facts = {"job": task.name, "period": int(now // seconds)}
    if not claim_period(task.name, seconds, now):
        log.info("periodic job %s skipped: it ran this period already", task.name,
                 extra={**facts, "outcome": "skipped"})
        raise CancelExecution(retry=False)
    log.info("periodic job %s runs", task.name, extra={**facts, "outcome": "runs"})


@huey.on_startup()
def configure_logging():
    """The worker's lines in the app servers' format (casemgmt.logs), once huey has set up its own."""
    from casemgmt import logs

    fmt = os.environ.get("CASEMGMT_LOG_FORMAT") or (
        "json" if os.environ.get("CASEMGMT_ENV") == "production" else "text")
    logs.configure(json_lines=fmt == "json")


@periodic(15 * 60, minute="*/15")
def overdue_sweep():
    from casemgmt.workflow.sweep import sweep_juvenile_clocks, sweep_overdue, sweep_overdue_referrals

    with app().app_context():
        return {"cases": sweep_overdue(), "referrals": sweep_overdue_referrals(),
                "juvenile_clocks": sweep_juvenile_clocks()}


@periodic(15 * 60, minute="*/15")
def due_soon_sweep():
    """Tell of cases and referrals due within a day (workflow.sweep.sweep_due_soon)."""
    from casemgmt.workflow.sweep import sweep_due_soon

    with app().app_context():
        return sweep_due_soon()


@periodic(60, minute="*")
def deliver_notifications():
    """Send the notifications that are due (notify.delivery): every minute, once however many
    workers run; each delivery is claimed by one of them."""
    from casemgmt.notify.delivery import deliver_due

    with app().app_context():
        return deliver_due()


@periodic(60, minute="*")
def refresh_indicators():
    """Recount the indicator buckets that changes touched (the indicator pages do it too)."""
    from casemgmt.reports.tally import refresh_pending

    with app().app_context():
        total = 0
        while count := refresh_pending():
            total += count
        return total


@periodic(3600, minute="5")
def refresh_home_kpis():
    """Recount the management indicators each coordinator's home shows (reports.services.home_kpis),
    district by district, each committed on its own."""
    from sqlalchemy import select

    from casemgmt.accounts.models import User
    from casemgmt.dbtypes import utcnow
    from casemgmt.errors import NotReady
    from casemgmt.extensions import db
    from casemgmt.reports.services import count_home_kpis
    from casemgmt.transactions import commit

    with app().app_context():
        codes = {".".join(code.split(".")[:2]) for code in db.session.scalars(
            select(User.area_code).where(User.role == "coordinator", User.active.is_(True),
                                         User.area_code.is_not(None)))}
        for district in sorted(codes):
            try:
                count_home_kpis(district, utcnow())
            except NotReady:  # the buckets are being counted (rebuild_indicators): next hour
                return 0
            commit()
        return len(codes)


# huey reads crontabs in UTC: 18:30 UTC is 02:30 in Makassar (WITA), when nobody is at work.
@periodic(24 * 3600, hour="18", minute="30")
def compact_search():
    """Merge the search index's segments (cases.search.compact_index): a night's work for a
    day's searches that each read fewer pages."""
    from casemgmt.cases.search import compact_index
    from casemgmt.extensions import db

    with app().app_context():
        segments = compact_index(db.session.connection())
        db.session.commit()
        return segments


@periodic(24 * 3600, hour="18", minute="45")
def refresh_statistics():
    """What the database's query planner knows of each index, sampled afresh as the tables grow
    (dbsetup.refresh_statistics: SQLite; PostgreSQL's autovacuum keeps its own)."""
    from casemgmt.dbsetup import refresh_statistics as refresh
    from casemgmt.extensions import db

    with app().app_context():
        done = refresh(db.session.connection())
        db.session.commit()
        return done


@periodic(24 * 3600, hour="18", minute="50")
def purge_sessions():
    """Forget browser sessions unused for a week (accounts.services.purge_sessions)."""
    from casemgmt.accounts.services import purge_sessions as purge
    from casemgmt.transactions import commit

    with app().app_context():
        count = purge()
        commit()
        return count


@huey.task()
@huey.lock_task("rebuild-indicators")
def rebuild_indicators():
    """Count every indicator bucket from the records (a large database after an upgrade).
    Every indicator request queues this until it is done; the copies queued meanwhile find the
    count made and stop at once instead of counting everything again."""
    from casemgmt.extensions import db
    from casemgmt.reports.models import IndicatorBuild
    from casemgmt.reports.tally import rebuild

    with app().app_context():
        if db.session.get(IndicatorBuild, 1) is not None:
            return 0
        districts = rebuild()
        db.session.commit()
        return districts


@periodic(60, minute="*")
def requeue_exports():
    """Exports left waiting by a queue that was away (reports.exports.requeue_waiting), and
    exports whose worker died mid-run (reports.exports.recover_stalled)."""
    from casemgmt.reports.exports import recover_stalled, requeue_waiting

    with app().app_context():
        stalled = recover_stalled(int(os.environ.get("CASEMGMT_EXPORT_STALLED_AFTER_SECONDS") or 600))
        return stalled + requeue_waiting(int(os.environ.get("CASEMGMT_EXPORT_REQUEUE_AFTER_SECONDS") or 120))


@huey.task()
def run_export(job_id: int):
    from casemgmt.reports.exports import run

    with app().app_context():
        run(job_id)


@huey.task()
def import_population(import_id: int):
    """Read an uploaded SIAK extract into a new extract (population.runs.run_queued)."""
    from casemgmt.population.runs import run_queued

    with app().app_context():
        run_queued(import_id)


@periodic(60, minute="*")
def requeue_population_imports():
    """Imports left waiting by a queue that was away (population.runs.requeue_waiting)."""
    from casemgmt.population.runs import requeue_waiting

    with app().app_context():
        return requeue_waiting(int(os.environ.get("CASEMGMT_EXPORT_REQUEUE_AFTER_SECONDS") or 120))


@periodic(24 * 3600, hour="19", minute="0")
def population_retention():
    """Remove the extracts past their district's retention, but the rows that became cases."""
    from casemgmt.population.runs import sweep_retention

    with app().app_context():
        return sweep_retention()


if Path(sys.argv[0]).name.startswith("huey_consumer"):
    _check_services_before_consuming()
