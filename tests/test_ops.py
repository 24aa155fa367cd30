"""Liveness and readiness, and the refusal to start without a configured service."""
from __future__ import annotations

import socket
import sys

import pytest
from sqlalchemy import text

from casemgmt import create_app
from casemgmt.config import ConfigError
from casemgmt.extensions import db
from casemgmt.ops import check_services, migration_heads, redacted


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_healthz_answers_without_asking_the_database(app, monkeypatch):
    def broken(*args, **kwargs):
        raise AssertionError("liveness must not query the database")

    monkeypatch.setattr(db.session, "execute", broken)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


@pytest.fixture
def stamped(app):
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL)"))
        conn.execute(text("DELETE FROM alembic_version"))
        for head in migration_heads():
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:v)"), {"v": head})
    yield
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))


def test_readyz_is_ready_when_the_database_is_at_the_heads(app, stamped):
    response = app.test_client().get("/readyz")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok", "migrations": "ok"}}


def test_readyz_is_not_ready_before_the_migrations_run(app, stamped):
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('0000old')"))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    body = response.get_json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["migrations"].startswith("not current: flask db upgrade to ")


def test_readyz_names_a_redis_that_does_not_answer(app, stamped, monkeypatch):
    monkeypatch.setitem(app.config, "HUEY_REDIS_URL", f"redis://127.0.0.1:{closed_port()}/1")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"] == "ok"
    assert checks["redis:huey_redis_url"].startswith("unreachable")


def test_start_is_refused_when_the_rate_limit_redis_does_not_answer(monkeypatch):
    monkeypatch.setenv("CASEMGMT_RATELIMIT_STORAGE_URL", f"redis://:hunter2@127.0.0.1:{closed_port()}/0")
    with pytest.raises(ConfigError) as err:
        create_app({"ENV": "testing", "CHECK_SERVICES": True})
    message = str(err.value)
    assert message.startswith("CASEMGMT_RATELIMIT_STORAGE_URL: cannot reach Redis at redis://:***@127.0.0.1:")
    assert "hunter2" not in message


def test_start_is_refused_when_the_redis_client_is_missing(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)  # import redis raises ImportError
    config = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "HUEY_REDIS_URL": "redis://127.0.0.1:6379/1"}
    with pytest.raises(ConfigError, match=r"^CASEMGMT_HUEY_REDIS_URL asks for Redis .* the 'redis' client is not "
                                          r"installed: pip install -e '\.\[production\]'"):
        check_services(config)


def test_start_is_refused_when_postgresql_does_not_answer():
    config = {"SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://casemgmt:pw@127.0.0.1:{closed_port()}/casemgmt"}
    with pytest.raises(ConfigError, match=r"^CASEMGMT_DATABASE_URL: cannot reach the database at "
                                          r"postgresql\+psycopg://casemgmt:\*\*\*@127\.0\.0\.1:"):
        check_services(config)


def test_the_embedded_default_needs_no_service():
    check_services({"SQLALCHEMY_DATABASE_URI": "sqlite:///:memory:", "RATELIMIT_STORAGE_URI": "memory://"})


def test_redacted_keeps_everything_but_the_password():
    assert redacted("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
    assert redacted("postgresql://u:p%40ss@db:5432/x") == "postgresql://u:***@db:5432/x"


def test_app_gzip_off_leaves_compression_to_the_proxy(app, tmp_path):
    plain = create_app({"ENV": "testing", "APP_GZIP": False, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db"})
    headers = {"Accept-Encoding": "gzip"}
    assert "Content-Encoding" not in plain.test_client().get("/static/css/app.css", headers=headers).headers
    assert app.test_client().get("/static/css/app.css", headers=headers).headers["Content-Encoding"] == "gzip"


def test_a_postgresql_out_of_reach_is_a_503_to_send_again(tmp_path):
    """Requests while PostgreSQL restarts are answered 503 with Retry-After (the contract's
    "busy"), not 500; the pool connects afresh on the next request (tests/e2e restarts it)."""
    away = create_app({"ENV": "testing", "HANDLE_UNEXPECTED_IN_TESTS": True,
                       "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://casemgmt@127.0.0.1:{closed_port()}/casemgmt"})
    client = away.test_client()
    response = client.get("/api/v1/me", headers={"Authorization": "Bearer abc"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "busy"
    with client.session_transaction() as session:  # a logged-in user, whom loading needs the database
        session["_user_id"] = "1:0"
        session["sid"] = "a-server-side-session"
        session["_fresh"] = True
    page = client.get("/cases")
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Nothing was saved" in page.get_data(as_text=True) or "Tidak ada yang disimpan" in page.get_data(as_text=True)
    probe = away.test_client()  # a probe sends no session
    assert probe.get("/healthz").status_code == 200
    ready = probe.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"]["database"].startswith("unreachable")


def test_what_counts_as_postgresql_away():
    import psycopg
    from psycopg import errors as pg
    from sqlalchemy.exc import IntegrityError, OperationalError

    from casemgmt.errors import is_busy

    assert is_busy(OperationalError("SELECT 1", {}, psycopg.OperationalError("connection failed: refused")))
    assert is_busy(OperationalError("SELECT 1", {}, pg.AdminShutdown("terminating connection")))
    assert is_busy(OperationalError("SELECT 1", {}, pg.CannotConnectNow("the database system is starting up")))
    assert not is_busy(OperationalError("SELECT 1", {}, pg.DiskFull("no space")))
    assert not is_busy(IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key")))


def test_the_worker_refuses_to_start_without_its_queue(tmp_path):
    import os
    import subprocess
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root), "CASEMGMT_INSTANCE_PATH": str(tmp_path),
           "CASEMGMT_DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}",
           "CASEMGMT_HUEY_REDIS_URL": f"redis://127.0.0.1:{closed_port()}/1"}
    env.pop("CASEMGMT_CHECK_SERVICES", None)
    done = subprocess.run([str(Path(sys.executable).parent / "huey_consumer"), "casemgmt.jobs.huey"], env=env,
                          cwd=root, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ConfigError: CASEMGMT_HUEY_REDIS_URL: cannot reach Redis at redis://127.0.0.1:" in done.stderr + done.stdout
