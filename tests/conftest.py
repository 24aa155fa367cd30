"""Fixtures: one app per session on SQLite or (CASEMGMT_TEST_DATABASE_URL) PostgreSQL,
a clean database per test (region codes of province 73 stay loaded), and a web client
that logs in and sends CSRF tokens like a browser."""
from __future__ import annotations

import contextvars
import os
import re
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from flask import has_app_context
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from casemgmt import create_app
from casemgmt.workflow import kept_counts
from casemgmt.extensions import db, limiter
from casemgmt.transactions import commit
from tests.factories import PASSWORD, OrganisationFactory, UserFactory, bearer_for

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PG_URL = os.environ.get("CASEMGMT_TEST_DATABASE_URL") or None
KEEP_TABLES = {"area", "alembic_version", "indicator_build"}


def database_url(tmp_dir: Path) -> str:
    return PG_URL or f"sqlite:///{tmp_dir / 'test.db'}"


class IsolatedClient(FlaskClient):
    """Each request runs outside the test's own app context, as a real request would:
    its own ``g``, its own database session. (Flask reuses an app context that is
    already pushed, which would share ``g`` and the session between requests.)
    What the test did before the request through the services (which flush, as operations do) is
    committed first, as the request that did it would have."""

    def open(self, *args, **kwargs):
        if has_app_context():
            commit()
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("instance")
    os.environ["CASEMGMT_INSTANCE_PATH"] = str(tmp)
    if PG_URL:
        os.environ["CASEMGMT_DATABASE_URL"] = PG_URL
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url(tmp),
                      "SERVER_NAME": None})
    app.test_client_class = IsolatedClient
    with app.app_context():
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        db.create_all()
        from casemgmt.directory.services import load_areas
        from casemgmt.reports.models import IndicatorBuild

        load_areas("73")
        db.session.add(IndicatorBuild(id=1))  # an empty database, as the migration marks it: buckets kept as rows change
        db.session.commit()
    yield app


@pytest.fixture(autouse=True)
def _clean_database(app):
    ctx = app.app_context()
    ctx.push()
    limiter.reset()
    kept_counts.forget()  # the database is emptied below without the sessions' knowledge
    yield
    db.session.rollback()
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Emptying only the tables a test wrote to, and restarting every sequence as SQLite
            # restarts ids: a TRUNCATE of all tables costs a quarter of a second per test.
            used = set(conn.execute(text(" UNION ALL ".join(
                f"SELECT '{t.name}' WHERE EXISTS (SELECT 1 FROM \"{t.name}\")" for t in tables))).scalars())
            for table in tables:
                if table.name in used:
                    conn.execute(table.delete())
            conn.execute(text("SELECT setval(c.oid::regclass, 1, false) FROM pg_class c "
                              "JOIN pg_namespace n ON n.oid = c.relnamespace "
                              "WHERE c.relkind = 'S' AND n.nspname = current_schema()"))
        else:
            for table in tables:
                conn.execute(table.delete())
    ctx.pop()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class Web:
    """A test client that behaves like a browser: keeps cookies, sends the CSRF token."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self._token = None

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def csrf_token(self) -> str:
        if self._token is None:
            page = self.client.get("/login").get_data(as_text=True)
            match = _CSRF.search(page)
            if match is None:  # logged in: /login redirects; take any form page
                page = self.client.get("/account/password").get_data(as_text=True)
                match = _CSRF.search(page)
            self._token = match.group(1)
        return self._token

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token())
        response = self.client.post(url, data=data, **kw)
        if url.startswith(("/login", "/logout")):
            self._token = None  # the session is renewed at log-in and log-out
        return response

    def login(self, username, password=PASSWORD):
        response = self.post("/login", {"username": username, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        return response

    def logout(self):
        return self.post("/logout")


@pytest.fixture
def web(app):
    return Web(app)


@pytest.fixture
def make_web(app):
    return lambda: Web(app)


@pytest.fixture
def org():
    return OrganisationFactory(name="PKSAI Kabupaten Gowa", kind="pksai", area_code="73.06",
                               services=["case_management"], covers=["73.06"])


@pytest.fixture
def users(org):
    """One user per role, Gowa-based where a role has an organisation."""
    village = OrganisationFactory(name="Puskesos Barembeng", kind="puskesos", area_code="73.06.01.2006")
    dukcapil = OrganisationFactory(name="Dukcapil Kabupaten Gowa", kind="dukcapil", area_code="73.06",
                                   services=["birth_certificate"])
    return {
        "village_worker": UserFactory(username="desa", role="village_worker", organisation=village),
        "social_worker": UserFactory(username="peksos", role="social_worker", organisation=org),
        "coordinator": UserFactory(username="koordinator", role="coordinator", organisation=org),
        "agency_officer": UserFactory(username="dukcapil", role="agency_officer", organisation=dukcapil),
        "analyst": UserFactory(username="analis", role="analyst", organisation=None, area_code="73"),
        "admin": UserFactory(username="admin", role="admin", organisation=None, area_code=None),
    }


@pytest.fixture
def admin_web(web, users):
    web.login("admin")
    return web


@pytest.fixture(scope="session")
def live_server(app):
    """The test app served on loopback in a thread, for the browser tests."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def api(app, users):
    """Call the API as a given user: api("get", "/api/v1/me", "koordinator")."""
    client = app.test_client()
    tokens = {}

    def call(method, url, username, **kw):
        if username not in tokens:
            tokens[username] = bearer_for(client, username)
        headers = {**tokens[username], **kw.pop("headers", {})}
        return getattr(client, method)(url, headers=headers, **kw)

    return call


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]



@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright  # only the browser tests need it

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []

    def on_console(msg):
        # A form sent back with its errors answers 422 (409 on a conflict); Chromium logs any
        # 4xx document as a console error. Everything else counts.
        if msg.type == "error" and not any(f"status of {code}" in msg.text for code in (409, 422)):
            errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page, errors
    context.close()
