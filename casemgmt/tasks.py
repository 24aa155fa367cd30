"""Background jobs (huey): SQLite-backed on one machine, Redis where several servers share the work.

Run the worker with:  huey_consumer casemgmt.tasks.huey
"""
from __future__ import annotations

import os
from pathlib import Path

from huey import RedisHuey, SqliteHuey, crontab

_redis = os.environ.get("CASEMGMT_HUEY_REDIS_URL")
if _redis:
    huey = RedisHuey("casemgmt", url=_redis)
else:
    _instance = Path(os.environ.get("CASEMGMT_INSTANCE_PATH") or Path(__file__).resolve().parent.parent / "instance")
    _instance.mkdir(parents=True, exist_ok=True)
    huey = SqliteHuey("casemgmt", filename=str(_instance / "huey.db"),
                      immediate=os.environ.get("CASEMGMT_HUEY_IMMEDIATE") == "1")

_app = None


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


@huey.periodic_task(crontab(minute="*/15"))
def overdue_sweep():
    from casemgmt.referrals.services import sweep_overdue_referrals
    from casemgmt.workflow.services import sweep_overdue

    with app().app_context():
        return {"cases": sweep_overdue(), "referrals": sweep_overdue_referrals()}


@huey.periodic_task(crontab(minute="*"))
def refresh_indicators():
    """Recount the indicator buckets that changes touched (the indicator pages do it too)."""
    from casemgmt.reports.tally import refresh_pending

    with app().app_context():
        total = 0
        while count := refresh_pending():
            total += count
        return total


# huey reads crontabs in UTC: 18:30 UTC is 02:30 in Makassar (WITA), when nobody is at work.
@huey.periodic_task(crontab(hour="18", minute="30"))
def compact_search():
    """Merge the search index's segments (cases.search.compact_index): a night's work for a
    day's searches that each read fewer pages."""
    from casemgmt.cases.search import compact_index
    from casemgmt.extensions import db

    with app().app_context():
        segments = compact_index(db.session.connection())
        db.session.commit()
        return segments


@huey.periodic_task(crontab(hour="18", minute="45"))
def refresh_statistics():
    """What the database's query planner knows of each index, sampled afresh as the tables grow
    (dbsetup.refresh_statistics: SQLite; PostgreSQL's autovacuum keeps its own)."""
    from casemgmt.dbsetup import refresh_statistics as refresh
    from casemgmt.extensions import db

    with app().app_context():
        done = refresh(db.session.connection())
        db.session.commit()
        return done


@huey.periodic_task(crontab(hour="18", minute="50"))
def purge_sessions():
    """Forget browser sessions unused for a week (accounts.services.purge_sessions)."""
    from casemgmt.accounts.services import purge_sessions as purge

    with app().app_context():
        return purge()


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


@huey.task()
def run_export(job_id: int):
    from casemgmt.reports.exports import run

    with app().app_context():
        run(job_id)
