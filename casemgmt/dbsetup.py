"""Per-connection database settings."""
from __future__ import annotations

from functools import partial

from sqlalchemy import event

# The background worker's bulk reads (an XLSX export of 100,000 cases reads them and their
# children across the whole file) go through memory-mapped I/O, which makes a large export
# markedly faster from a cold cache and from a warm one. Not for the app's requests: a case
# page's point reads each fault in the pages around them, which makes cold case pages slower.
# SQLite caps the size at its compile-time limit (SQLITE_MAX_MMAP_SIZE).
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
    # evicts between requests, and searches by a child's name are slower and far more uneven
    # without them.
    cursor.execute("PRAGMA cache_size=-32768")
    if mmap_bytes:
        cursor.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
    cursor.close()


# Rows ANALYZE reads per index: a sample gives the planner estimates close enough, in a small
# fraction of the time a full ANALYZE takes (it reads every row of every table).
ANALYSIS_LIMIT = 1000


def refresh_statistics(connection) -> bool:
    """SQLite: what its query planner knows of each index (sqlite_stat1), sampled afresh. Without
    it the planner guesses from the number of columns an index matches, and takes the triage and
    count indexes (migration d4c7a1e9b2f6) for the case list, which must then sort a whole
    district. Run after migrations that add indexes and each night (jobs.py), as the tables
    grow. PostgreSQL's autovacuum keeps its own: False, nothing done."""
    if connection.dialect.name != "sqlite":
        return False
    connection.exec_driver_sql(f"PRAGMA analysis_limit={ANALYSIS_LIMIT}")
    connection.exec_driver_sql("ANALYZE")
    return True


def listen_to_sessions(**listeners) -> None:
    """Listens to every session's events (``before_flush=fn`` ...), each listener once however
    often this is called: the app factory runs once per app, tests make several."""
    from sqlalchemy.orm import Session

    for name, listener in listeners.items():
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)
