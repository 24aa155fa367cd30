"""The migrations build the schema the models describe, on SQLite and on PostgreSQL."""
from __future__ import annotations

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from casemgmt import create_app
from casemgmt.dbtypes import compare_options
from casemgmt.extensions import db
from tests.conftest import PG_URL


@pytest.fixture
def empty_database_url(tmp_path):
    """An empty database of the kind this run tests: a new SQLite file, or a new PostgreSQL database."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    url = make_url(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"cm_migrate_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True,
                                                             **compare_options(conn.dialect.name)})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], diff
        assert PG_URL is None or db.engine.dialect.name == "postgresql"
        if db.engine.dialect.name == "postgresql":  # compare_metadata does not compare collations
            assert _collations(db.engine) == _model_collations(db.engine.dialect)
        # The search index the migration made by hand is there and answers.
        with db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.execute(text("SELECT rowid FROM case_fts WHERE case_fts MATCH 'x'")).all()
            else:
                definition = conn.scalar(text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_case_record_fts'"))
                assert "USING gin (case_search_terms((district_code)::text, search_text))" in definition
        downgrade(revision="base")
        with db.engine.connect() as conn:
            remaining = set(db.inspect(conn).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


def _collations(engine) -> dict:
    with engine.connect() as conn:
        return {(table, column): collation for table, column, collation in conn.execute(text(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND collation_name IS NOT NULL"))
            if table != "alembic_version"}


def _model_collations(dialect) -> dict:
    return {(table.name, column.name): column.type.dialect_impl(dialect).collation
            for table in db.metadata.sorted_tables for column in table.columns
            if getattr(column.type.dialect_impl(dialect), "collation", None)}


def test_sqlite_connections_get_their_settings(tmp_path):
    import sqlite3

    from casemgmt.dbsetup import _sqlite_pragmas

    connection = sqlite3.connect(tmp_path / "settings.db")
    _sqlite_pragmas(connection, None)
    settings = {name: connection.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("foreign_keys", "journal_mode", "cache_size")}
    connection.close()
    assert settings == {"foreign_keys": 1, "journal_mode": "wal", "cache_size": -32768}


def test_only_the_background_workers_app_maps_the_sqlite_file(tmp_path, monkeypatch):
    """Memory-mapped reads for the worker's bulk reads (exports), not for the app's requests."""
    from casemgmt import jobs
    from casemgmt.dbsetup import WORKER_MMAP_BYTES

    url = f"sqlite:///{tmp_path / 'mapped.db'}"
    monkeypatch.setenv("CASEMGMT_DATABASE_URL", url)
    monkeypatch.setattr(jobs, "_app", None)
    mapped = {}
    for name, app in (("web", create_app({"SQLALCHEMY_DATABASE_URI": url})), ("worker", jobs.app())):
        with app.app_context():
            assert str(db.engine.url) == url
            mapped[name] = db.session.execute(text("PRAGMA mmap_size")).scalar()
            db.session.remove()
            db.engine.dispose()
    assert mapped["web"] == 0
    assert 0 < mapped["worker"] <= WORKER_MMAP_BYTES


def test_the_nightly_job_samples_every_index_for_the_planner(app, users):
    """SQLite's planner, without figures for an index, took those matching the most columns (the
    triage indexes) for the case list's. The nightly job (and migration d4c7a1e9b2f6) samples
    them; PostgreSQL's autovacuum keeps its own figures: nothing done."""
    from datetime import datetime

    from casemgmt import jobs
    from tests.factories import make_case

    make_case(users["village_worker"], name="Andi Baso")
    sqlite = db.engine.dialect.name == "sqlite"
    if sqlite:
        db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
        db.session.commit()
    jobs.use_app(app)
    try:
        assert jobs.refresh_statistics.call_local() is sqlite
        if sqlite:
            sampled = set(db.session.scalars(text("SELECT idx FROM sqlite_stat1 WHERE tbl = 'case_record'")))
            indexes = {index.name for index in db.metadata.tables["case_record"].indexes}
            assert {"ix_case_record_district_created", "ix_case_record_district_queue"} <= sampled
            assert indexes & sampled == {name for name in indexes if not name.endswith(("_fts", "_district_id"))}
    finally:
        if sqlite:  # the tests after this one plan without figures, as before it
            db.session.execute(text("DROP TABLE IF EXISTS sqlite_stat1"))
            db.session.commit()
    # At 02:45 in Makassar (18:45 UTC), after the search index is merged.
    due = {type(t).__name__ for t in jobs.huey.read_periodic(datetime(2026, 1, 1, 18, 45))}
    assert type(jobs.refresh_statistics.s()).__name__ in due


def test_the_files_on_disk_are_read_into_the_database_and_written_back(tmp_path):
    """Migration 5f2a8c1d9e37 reads the attachments and finished exports on this machine's disk
    into stored_file/file_chunk (a missing one is counted, not fatal); its downgrade writes them
    back. SQLite, whose foreign keys a plain connection does not enforce, holds the rows."""
    import sqlite3

    from casemgmt import storage

    path = tmp_path / "files.db"
    uploads = tmp_path / "uploads"
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "UPLOAD_PATH": str(uploads)})
    exports = tmp_path / "exports-instance" / "exports"
    app.instance_path = str(exports.parent)
    photo, sheet = b"\x89PNG\r\n\x1a\n" + bytes(300_000), b"Nomor kasus,Tahap\r\n73.06/1,laporan\r\n"
    (uploads / "2026/11").mkdir(parents=True)
    (uploads / "2026/11/abc.png").write_bytes(photo)
    exports.mkdir(parents=True)
    (exports / "7-xyz.csv").write_bytes(sheet)
    with app.app_context():
        upgrade(revision="b7e2f4a9c3d1")
        raw = sqlite3.connect(path)
        with raw:
            for id_, key in ((1, "2026/11/abc.png"), (2, "2026/11/gone.png")):
                raw.execute("INSERT INTO attachment (id, case_id, filename, content_type, size, sha256, storage_key, "
                            "uploaded_by_id, uploaded_at) VALUES (?, 99, 'kk.png', 'image/png', 1, 'x', ?, 1, "
                            "'2026-11-01 00:00:00')", (id_, key))
            raw.execute("INSERT INTO export_job (id, user_id, format, filters, status, total, done, storage_key, "
                        "created_at) VALUES (7, 1, 'csv', '{}', 'done', 1, 1, '7-xyz.csv', '2026-11-01 00:00:00')")
        raw.close()
        upgrade()
        assert storage.read_bytes("2026/11/abc.png") == photo
        assert storage.read_bytes("exports/7-xyz.csv") == sheet
        assert not storage.exists("2026/11/gone.png")
        assert db.session.scalar(text("SELECT storage_key FROM export_job WHERE id = 7")) == "exports/7-xyz.csv"
        db.session.remove()
        (uploads / "2026/11/abc.png").unlink()
        (exports / "7-xyz.csv").unlink()
        downgrade(revision="b7e2f4a9c3d1")
        assert (uploads / "2026/11/abc.png").read_bytes() == photo
        assert (exports / "7-xyz.csv").read_bytes() == sheet
        assert db.session.scalar(text("SELECT storage_key FROM export_job WHERE id = 7")) == "7-xyz.csv"
        db.session.remove()
        db.engine.dispose()
