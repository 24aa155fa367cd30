"""Security headers, caching, error handling and the PDF fetcher."""
from __future__ import annotations

import pytest

from casemgmt import config as config_module
from casemgmt import create_app


def test_security_headers_on_pages(web):
    response = web.get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style_attribute(web, users):
    import re

    web.login("admin")
    for path in ("/login", "/", "/admin/users", "/directory/organisations", "/directory/organisations/new"):
        page = web.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", page), path
        assert not re.search(r"\son[a-z]+=", page), path
        assert " style=" not in page, path


def test_hashed_assets_are_cached_for_a_year(web):
    page = web.get("/login").get_data(as_text=True)
    import re

    css = re.search(r'href="(/static/vendor/bootstrap/bootstrap\.used\.min\.css\?v=[0-9a-f]+)"', page).group(1)
    response = web.get(css)
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
    response.close()


def test_api_errors_are_json_and_pages_are_html(web):
    assert web.get("/api/v1/none").is_json
    assert web.get("/none").mimetype == "text/html"


def test_server_error_rolls_back_and_shows_a_page(tmp_path):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'e.db'}",
                      "HANDLE_UNEXPECTED_IN_TESTS": True, "PROPAGATE_EXCEPTIONS": False})

    @app.get("/boom")
    def boom():
        raise RuntimeError("boom")

    @app.get("/api/v1/boom")
    def api_boom():
        raise RuntimeError("boom")

    client = app.test_client()
    response = client.get("/boom")
    assert response.status_code == 500 and "Tidak ada data yang disimpan" in response.get_data(as_text=True)
    response = client.get("/api/v1/boom")
    assert response.status_code in (401, 500)  # unauthenticated API callers learn nothing more


def test_a_database_held_by_another_writer_is_a_busy_page_and_nothing_half_saved(tmp_path):
    """SQLite has one writer: a request that waits past the busy timeout is told, in the user's
    language, that the system is busy and nothing was saved (503, Retry-After), not a 500; what
    it had written is rolled back. The page keeps what was sent and sends it again as it was
    (every value, a repeated field's too), and once the writer is done that goes through."""
    import io
    import re
    import sqlite3
    from html import unescape

    from flask import request
    from sqlalchemy import text
    from werkzeug.datastructures import MultiDict

    from casemgmt.extensions import db

    path = tmp_path / "busy.db"
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SQLITE_BUSY_TIMEOUT_MS": 50})

    @app.post("/write")
    def write():
        for value in [request.form["note"]] + request.form.getlist("tag"):
            db.session.execute(text("INSERT INTO note_t (x) VALUES (:x)"), {"x": value})
        db.session.commit()
        return "saved"

    with app.app_context():
        db.session.execute(text("CREATE TABLE note_t (x TEXT)"))
        db.session.commit()
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another writer holds the file
    sent = {"note": 'Anak "Budi" <sekolah> & rumah', "tag": ["satu", "dua"]}
    response = client.post("/write?from=case", data=sent)
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5", page
    assert "sibuk" in page and "Tidak ada yang disimpan" in page and "Kirim lagi" in page, page
    form = re.search(r'<form method="post" action="([^"]+)">(.*?)</form>', page, re.S)
    assert form and unescape(form.group(1)) == "/write?from=case"
    kept = [(unescape(name), unescape(value))
            for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', form.group(2))]
    assert kept == [("note", sent["note"]), ("tag", "satu"), ("tag", "dua")]
    # A form with a file, or a password, is not kept so: it is to be sent again from the start.
    for data in ({"note": "x", "file": (io.BytesIO(b"%PDF"), "surat.pdf")}, {"note": "x", "new_password": "Rahasia-2026"}):
        response = client.post("/write", data=data)
        shown = response.get_data(as_text=True).split("<main")[1]
        assert response.status_code == 503 and "<form" not in shown and "Rahasia" not in shown
    other.execute("ROLLBACK")
    assert client.post(unescape(form.group(1)), data=MultiDict(kept)).get_data(as_text=True) == "saved"
    assert [row[0] for row in other.execute("SELECT x FROM note_t")] == [sent["note"], "satu", "dua"]
    other.close()


def test_a_lost_race_on_postgresql_is_busy_and_a_fault_is_not():
    """PostgreSQL's refusals of a request that lost a race or waited too long are "busy, send it
    again" (errors.Busy); a fault in the request (here a missing table) is not."""
    import sqlite3

    from sqlalchemy.exc import OperationalError, ProgrammingError

    from casemgmt.errors import is_busy

    class PgError(Exception):
        def __init__(self, sqlstate):
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    assert [is_busy(OperationalError("UPDATE", {}, PgError(state))) for state in ("55P03", "40001", "40P01", "57014")] \
        == [True] * 4
    assert not is_busy(ProgrammingError("SELECT", {}, PgError("42P01")))
    # SQLite's by its result code, as the driver raised it, never by the words of its message.
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE acct (id INTEGER PRIMARY KEY, busy_reason TEXT NOT NULL)")
    faults = []
    for statement in ("SELECT locked_until FROM acct", "INSERT INTO acct (id) VALUES (1)", "SELECT * FROM locked"):
        try:
            connection.execute(statement)
        except sqlite3.Error as exc:
            faults.append(exc)
    assert len(faults) == 3 and not [exc for exc in faults if is_busy(OperationalError("SELECT", {}, exc))]
    locked = sqlite3.OperationalError("database is locked")
    locked.sqlite_errorcode = 5  # SQLITE_BUSY, as the driver sets it
    assert is_busy(OperationalError("UPDATE", {}, locked))
    assert not is_busy(OperationalError("UPDATE", {}, sqlite3.OperationalError("database is locked")))


def test_secret_key_is_generated_once_and_kept_private(tmp_path, monkeypatch):
    monkeypatch.delenv("CASEMGMT_SECRET_KEY", raising=False)
    first = config_module.load(str(tmp_path))["SECRET_KEY"]
    second = config_module.load(str(tmp_path))["SECRET_KEY"]
    assert first == second and len(first) >= 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    monkeypatch.setenv("CASEMGMT_SECRET_KEY", "from-the-environment")
    assert config_module.load(str(tmp_path))["SECRET_KEY"] == "from-the-environment"


def test_production_requires_secure_cookies_and_refuses_demo(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEMGMT_ENV", "production")
    cfg = config_module.load(str(tmp_path))
    assert cfg["SESSION_COOKIE_SECURE"] is True and cfg["DEMO_DATA_ALLOWED"] is False
    assert cfg["PREFERRED_URL_SCHEME"] == "https"


def test_unknown_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEMGMT_ENV", "staging")
    with pytest.raises(config_module.ConfigError):
        config_module.load(str(tmp_path))


def test_database_url_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CASEMGMT_DATABASE_URL", "postgres://u@db/casemgmt")
    assert config_module.load(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/casemgmt"
    monkeypatch.delenv("CASEMGMT_DATABASE_URL")
    assert config_module.load(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'casemgmt.db'}"


def test_the_sqlite_busy_timeout_is_read_from_the_environment(tmp_path, monkeypatch):
    assert config_module.load(str(tmp_path))["SQLITE_BUSY_TIMEOUT_MS"] == 10000
    monkeypatch.setenv("CASEMGMT_SQLITE_BUSY_TIMEOUT_MS", "2500")
    assert config_module.load(str(tmp_path))["SQLITE_BUSY_TIMEOUT_MS"] == 2500


def test_health_check(web):
    assert web.get("/healthz").get_json() == {"status": "ok"}


def test_pdf_fetcher_refuses_files_and_remote_urls(app):
    from casemgmt.pdf import html_to_pdf

    html = ('<html><head><link rel="stylesheet" href="http://127.0.0.1:9/x.css"></head><body>'
            '<h1>Surat Rujukan</h1><img src="file:///etc/passwd"><img src="static:../../pyproject.toml">'
            '<img src="static:vendor/htmx/LICENSE"></body></html>')
    with app.test_request_context():
        pdf, refused = html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    assert refused == ["http://127.0.0.1:9/x.css", "file:///etc/passwd", "static:../../pyproject.toml"]


def test_ids_beyond_the_integer_range_are_404(web, users):
    web.login("koordinator")
    assert web.get("/cases/99999999999999999999999").status_code == 404
    assert web.get("/api/v1/cases/99999999999999999999999").status_code in (401, 404)


def test_nul_characters_are_refused_everywhere(web, users):
    web.login("koordinator")
    assert web.get("/cases?q=a%00b").status_code == 400
    assert web.post("/cases/new", {"description": "a\x00b"}).status_code == 400
    client = web.app.test_client()
    response = client.post("/api/v1/auth/token", json={"username": "a\u0000", "password": "x"})
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "bad_request"


def test_ids_too_large_for_the_database_are_refused_in_bodies_and_forms(app, web, users, org):
    from tests.factories import bearer_for, make_case

    case = make_case(users["village_worker"])
    web.login("koordinator")
    huge = str(2**70)
    response = web.post(f"/cases/{case.id}/transitions/accept", {"accept-version": str(case.version),
                                                                  "accept-risk_level": "low",
                                                                  "accept-assigned_worker_id": huge})
    assert response.status_code == 422
    assert web.post("/conferences/new", {"title": "x", "scheduled_at": "2026-12-01T10:00",
                                         "case_ids": [huge], "organisation_ids": [huge]}).status_code in (302, 422)
    client = app.test_client()
    headers = bearer_for(client, "koordinator")
    response = client.post(f"/api/v1/cases/{case.id}/referrals", headers=headers, json={
        "to_organisation_id": 2**70, "service": "health", "reason": "x",
        "consent": {"given_by": "child", "recorded_on": "2026-01-01"}})
    assert response.status_code == 422


def test_no_server_header_names_the_software(live_server):
    """Neither Werkzeug's server (flask run, the browser tests) nor gunicorn says what it is."""
    import requests

    response = requests.get(f"{live_server}/login", timeout=10)
    assert response.status_code == 200 and "Server" not in response.headers, response.headers


def test_gunicorn_names_no_server(tmp_path):
    import os
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "CASEMGMT_ENV": "testing", "CASEMGMT_INSTANCE_PATH": str(tmp_path),
           "CASEMGMT_DATABASE_URL": f"sqlite:///{tmp_path / 'g.db'}", "PYTHONPATH": str(root)}
    server = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "--workers", "1", "--bind",
                               f"127.0.0.1:{port}", "wsgi:app"], cwd=root, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/api/v1/none", timeout=60)  # a loaded machine
                break
            except requests.ConnectionError:
                time.sleep(0.2)
        else:
            raise AssertionError("gunicorn did not start")
        assert response.status_code == 404 and response.headers["Content-Type"] == "application/json"
        assert "Server" not in response.headers, response.headers
    finally:
        server.terminate()
        server.wait(timeout=30)
