"""Per-connection database settings."""
from __future__ import annotations

from functools import partial

from sqlalchemy import event

# The background worker's bulk reads (an XLSX export of 100,000 cases reads them and their
# children across the whole file) go through memory-mapped I/O: on the 1M-case database the
# export took 14.2 s instead of 23.0 from a cold cache, 7.7 s instead of 10.4 from a warm one.
# Not for the app's requests: a case page's point reads each fault in the pages around them,
# and cold case pages took p50 27 ms, p95 68 against 22 and 26. SQLite caps it (2 GiB here).
WORKER_MMAP_BYTES = 1 << 32


def configure_engines(app) -> None:
    from casemgmt.extensions import db

    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", partial(_sqlite_pragmas, mmap_bytes=app.config["SQLITE_MMAP_BYTES"],
                                                    busy_ms=app.config["SQLITE_BUSY_TIMEOUT_MS"]))


def _sqlite_pragmas(dbapi_connection, _record, mmap_bytes: int = 0, busy_ms: int = 10000) -> None:
    # Foreign keys are off by default in SQLite; WAL lets readers go on while one writes;
    # busy_timeout waits for a writer instead of failing at once (and past it, errors.Busy).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 32 MiB of page cache per connection instead of 2: search reads index pages the default
    # evicts between requests. On the 1M-case database, 120 searches by a child's name in a
    # fresh process, three seeds: p50 5.3-5.9 ms, p95 8.7-10.9 ms, against 7.1-11.4 / 12.4-34.9.
    cursor.execute("PRAGMA cache_size=-32768")
    if mmap_bytes:
        cursor.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
    cursor.close()


# Rows ANALYZE reads per index: estimates within a few per cent in about a second for the whole
# million-case database (a full ANALYZE reads every row: 5 s for case_record and referral alone).
ANALYSIS_LIMIT = 1000


def refresh_statistics(connection) -> bool:
    """SQLite: what its query planner knows of each index (sqlite_stat1), sampled afresh. Without
    it the planner guessed from the number of columns an index matched, and took the triage and
    count indexes (migration d4c7a1e9b2f6) for the case list, which then sorted a whole district
    (1 ms -> 1,070 ms). Run after migrations that add indexes and each night (jobs.py), as the
    tables grow. PostgreSQL's autovacuum keeps its own: False, nothing done."""
    if connection.dialect.name != "sqlite":
        return False
    connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
    connection.exec_driver_sql("ANALYZE")
    return True
