"""The deployment of deploy/ end to end: nginx in front of two gunicorn app servers on PostgreSQL
and Redis, two huey workers (tests/e2e/stack.py starts them all on loopback and stops them).

Through nginx, whose round robin sends each request to the other server (X-Upstream, added to
the test's copy of the site, says which): a log-in, an attachment and an export go on from one
server to the other; the log-in limit is one for both; the overdue sweep runs once with two
workers; with one app server killed mid-run the journey goes on through the other.

tools/test-all.sh runs this once (not once per database): pytest tests/e2e."""
from __future__ import annotations

import json
import re
import subprocess
import threading
import time

import pytest
import requests

from tests.e2e.stack import BIN, PASSWORD, ROOT, Stack

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


@pytest.fixture(scope="module")
def stack():
    stack = Stack()
    try:
        yield stack.start()
    finally:
        stack.stop()


class Browser:
    """A requests session through nginx that remembers which app server answered last."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.session = requests.Session()
        self.upstreams: list[str] = []

    def request(self, method: str, path: str, **kw) -> requests.Response:
        kw.setdefault("allow_redirects", False)
        kw.setdefault("timeout", 30)
        kw.setdefault("verify", str(self.stack.cert))  # per request: REQUESTS_CA_BUNDLE beats Session.verify
        response = self.session.request(method, self.stack.url + path, **kw)
        self.upstreams.append(response.headers.get("X-Upstream", ""))
        return response

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, data: dict, **kw) -> requests.Response:
        # As a browser does: over HTTPS Flask-WTF wants the referring page of this site.
        kw.setdefault("headers", {})["Referer"] = self.stack.url + path
        return self.request("POST", path, data=data, **kw)

    def token(self, path: str) -> str:
        page = self.get(path)
        assert page.status_code == 200, (path, page.status_code)
        return CSRF.search(page.text).group(1)

    @property
    def last(self) -> str:
        return self.upstreams[-1]


def app_servers(stack: Stack) -> set[str]:
    return {f"127.0.0.1:{stack.ports['app_a']}", f"127.0.0.1:{stack.ports['app_b']}"}


@pytest.fixture(scope="module")
def coordinator(stack):
    browser = Browser(stack)
    token = browser.token("/login")
    response = browser.post("/login", {"username": "koordinator.gowa", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.text[:500]
    return browser


def test_the_site_is_served_as_deployed(stack):
    browser = Browser(stack)
    page = browser.get("/login", headers={"Accept-Encoding": "gzip"})
    assert page.status_code == 200
    assert page.headers["Content-Encoding"] == "gzip"  # by nginx: the app servers leave it (APP_GZIP=0)
    assert re.fullmatch(r"[0-9a-f]{32}", page.headers["X-Request-ID"])
    css = re.search(r'href="(/static/css/app\.css\?v=[^"]+)"', page.text).group(1)
    static = browser.get(css)
    assert static.status_code == 200 and "X-Upstream" not in static.headers  # nginx's own
    assert static.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert browser.get("/static/css/app.css").headers["Cache-Control"] == "no-cache"
    ready = browser.get("/readyz").json()
    assert ready == {"status": "ok", "checks": {"database": "ok", "migrations": "ok",
                                                "redis:ratelimit_storage_url": "ok",
                                                "redis:huey_redis_url": "ok"}}
    # The app's log line of that request carries the id nginx gave it.
    request_id = browser.get("/healthz").headers["X-Request-ID"]
    time.sleep(0.2)
    lines = [json.loads(line) for name in ("app_a", "app_b") for line in stack.log_text(name).splitlines()
             if line.startswith("{") and request_id in line]
    assert [(line["route"], line["status"]) for line in lines] == [("/healthz", 200)]


def test_each_app_server_serves_its_prometheus_metrics(stack):
    from prometheus_client.parser import text_string_to_metric_families

    browser = Browser(stack)
    assert browser.get("/metrics").status_code == 404  # not through nginx
    for _ in range(4):
        assert browser.get("/login").status_code == 200  # two for each server
    for name in ("app_a", "app_b"):
        text = requests.get(f"http://127.0.0.1:{stack.ports[name]}/metrics", timeout=10).text
        found = {(s.name, tuple(sorted(s.labels.items()))): s.value
                 for family in text_string_to_metric_families(text) for s in family.samples}
        login = (("method", "GET"), ("status", "200"), ("url_rule", "/login"))
        assert found[("casemgmt_http_request_duration_seconds_count", login)] >= 2
        assert ("casemgmt_job_queue_depth", ()) in found and ("casemgmt_overdue_cases", ()) in found


def test_a_log_in_on_one_server_goes_on_on_the_other(stack):
    browser = Browser(stack)
    token = browser.token("/login")
    response = browser.post("/login", {"username": "peksos.gowa", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    logged_in_on = browser.last
    home = browser.get("/")
    assert home.status_code == 200 and browser.last != logged_in_on
    assert {logged_in_on, browser.last} == app_servers(stack)
    assert "peksos.gowa" in home.text or "Peksos" in home.text
    assert browser.get("/cases").status_code == 200 and browser.last == logged_in_on


def _a_case_id(browser: Browser) -> int:
    page = browser.get("/cases")
    assert page.status_code == 200
    return int(re.search(r'href="/cases/(\d+)"', page.text).group(1))


def _download_elsewhere(browser: Browser, path: str, not_from: str) -> requests.Response:
    """GET ``path`` until a server other than ``not_from`` answers it (round robin: the next)."""
    for _ in range(4):
        response = browser.get(path)
        if browser.last != not_from:
            return response
    raise AssertionError(f"every answer to {path} came from {not_from}")


def test_an_attachment_uploaded_through_one_is_downloaded_through_the_other(stack, coordinator):
    case_id = _a_case_id(coordinator)
    token = coordinator.token(f"/cases/{case_id}")
    response = coordinator.post(f"/cases/{case_id}/attachments", {"csrf_token": token, "description": "Foto KK"},
                                files={"file": ("kk.png", PNG, "image/png")})
    assert response.status_code == 302, response.text[:500]
    uploaded_on = coordinator.last
    page = coordinator.get(f"/cases/{case_id}").text
    attachment = re.findall(rf'/cases/{case_id}/attachments/(\d+)', page)[-1]
    download = _download_elsewhere(coordinator, f"/cases/{case_id}/attachments/{attachment}", uploaded_on)
    assert download.status_code == 200 and download.content == PNG


def test_an_export_started_on_one_is_written_by_a_worker_and_downloaded_from_the_other(stack, coordinator):
    token = coordinator.token("/cases")
    response = coordinator.post("/exports", {"csrf_token": token, "format": "csv"})
    assert response.status_code == 302
    started_on = coordinator.last
    job = int(re.search(r"/exports/(\d+)$", response.headers["Location"]).group(1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        download = coordinator.get(f"/exports/{job}/download")
        if download.status_code == 200 and coordinator.last != started_on:
            break
        time.sleep(0.2)
    assert download.status_code == 200, "the worker did not finish the export"
    rows = download.content.decode("utf-8-sig").splitlines()
    assert len(rows) > 1 and rows[0].count(",") >= 10
    workers = stack.log_text("worker_1") + stack.log_text("worker_2")
    assert "Executing casemgmt.jobs.run_export" in workers  # by a worker, not the app server


def test_the_log_in_limit_holds_across_both_servers(stack):
    """8 failed log-ins a minute from one address, counted in Redis for every server: with a
    count per server, the ninth would still be let through."""
    browser = Browser(stack)
    token = browser.token("/login")  # the session's: one for every attempt, so the POSTs alternate
    answers = []
    for _ in range(10):
        response = browser.post("/login", {"username": "tidak.ada", "password": "salah-sekali", "csrf_token": token})
        answers.append((response.status_code, browser.last))
    statuses = [status for status, _server in answers]
    first_limited = statuses.index(429)
    # The earlier log-ins of this run count too; at most 8 in all before the limit.
    assert 1 <= first_limited <= 8, statuses
    assert set(statuses[:first_limited]) == {422}
    assert set(statuses[first_limited:]) == {429}
    assert {server for _status, server in answers[first_limited:]} == app_servers(stack)
    assert {server for _status, server in answers} == app_servers(stack)


def _periodic_lines(stack: Stack, job: str) -> list[dict]:
    lines = []
    for name in ("worker_1", "worker_2"):
        for line in stack.log_text(name).splitlines():
            if line.startswith("{"):
                record = json.loads(line)
                if record.get("job") == job and "outcome" in record:
                    lines.append(record | {"worker": name})
    return lines


def test_the_overdue_sweep_runs_once_a_period_with_two_workers(stack):
    # What both workers' schedulers do at the quarter hour: each enqueues the sweep.
    enqueue = ("from casemgmt import jobs\n"
               "for _ in range(2):\n"
               "    jobs.huey.enqueue(jobs.overdue_sweep.s())\n")
    subprocess.run([str(BIN / "python"), "-c", enqueue], env=stack.env("enqueue"), cwd=ROOT, check=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(_periodic_lines(stack, "overdue_sweep")) < 2:
        time.sleep(0.2)
    lines = _periodic_lines(stack, "overdue_sweep")
    # The workers' own schedulers may also fire if the test runs at a quarter hour: however many
    # attempts, each period has one run and the rest are skipped.
    periods: dict[int, list[str]] = {}
    for line in lines:
        periods.setdefault(line["period"], []).append(line["outcome"])
    assert all(outcomes.count("runs") == 1 for outcomes in periods.values()), lines
    assert sum(outcomes.count("skipped") for outcomes in periods.values()) >= 1, lines
    # The real schedules too: the indicator recount, enqueued every minute by both workers.
    by_period: dict[int, list[str]] = {}
    for line in _periodic_lines(stack, "refresh_indicators"):
        by_period.setdefault(line["period"], []).append(line["outcome"])
    assert by_period and all(outcomes.count("runs") == 1 for outcomes in by_period.values()), by_period


def _both_ready(stack: Stack, seconds: float = 30) -> None:
    for name in ("app_a", "app_b"):
        stack.wait_for(lambda: stack._ready(stack.ports[name]), f"{name} ready again", name, seconds)


def test_a_redis_restart_shows_no_500_and_limits_and_jobs_recover(stack, coordinator):
    import redis

    stack.kill("redis")  # SIGKILL: its data (queue, limits) gone, as on a restart without persistence
    pages = [coordinator.get("/cases").status_code for _ in range(4)]
    assert pages == [200] * 4
    stranger = Browser(stack)
    stranger_token = stranger.token("/login")
    tries = [stranger.post("/login", {"username": "tidak.ada", "password": "salah",
                                      "csrf_token": stranger_token}).status_code for _ in range(3)]
    assert set(tries) <= {422, 429}, tries  # counted in each server's memory meanwhile
    token = coordinator.token("/cases")
    response = coordinator.post("/exports", {"csrf_token": token, "format": "csv"})
    assert response.status_code == 302  # kept in the database until the queue answers
    job = int(re.search(r"/exports/(\d+)$", response.headers["Location"]).group(1))
    assert coordinator.get(f"/exports/{job}").status_code == 200
    ready = requests.get(f"http://127.0.0.1:{stack.ports['app_a']}/readyz", timeout=10)
    assert ready.status_code == 503 and ready.json()["checks"]["redis:huey_redis_url"].startswith("unreachable")

    stack.start_redis()  # the same port, empty
    _both_ready(stack)
    # Queued jobs recover: what the per-minute requeue_exports runs, run now.
    requeue = "from casemgmt import jobs; print(jobs.requeue_exports.call_local())"
    done = subprocess.run([str(BIN / "python"), "-c", requeue], capture_output=True, text=True, cwd=ROOT,
                          env=stack.env("requeue", CASEMGMT_EXPORT_REQUEUE_AFTER_SECONDS="0"))
    assert done.returncode == 0 and done.stdout.split()[-1] == "1", done.stderr[-2000:]
    deadline = time.monotonic() + 30
    while coordinator.get(f"/exports/{job}/download").status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.3)
    assert coordinator.get(f"/exports/{job}/download").status_code == 200
    # Limits recover: counted in Redis again (each server tries it again after a back-off).
    client = redis.Redis(port=stack.ports["redis"])
    statuses = []
    deadline = time.monotonic() + 40
    while not client.keys("LIMITS*") and time.monotonic() < deadline:
        statuses.append(stranger.post("/login", {"username": "tidak.ada", "password": "salah",
                                                 "csrf_token": stranger_token}).status_code)
        time.sleep(0.5)
    assert client.keys("LIMITS*"), statuses
    assert set(statuses) <= {422, 429}, statuses


def test_requests_while_postgresql_restarts_answer_503_and_the_servers_recover(stack, coordinator):
    api = Browser(stack)
    token = api.request("POST", "/api/v1/auth/token", json={"username": "peksos.gowa", "password": PASSWORD})
    assert token.status_code == 200
    bearer = {"Authorization": f"Bearer {token.json()['token']}"}
    pids = {name: stack.procs[name].pid for name in ("app_a", "app_b")}
    stack.pg_ctl("stop")
    try:
        for _ in range(2):  # both servers
            page = coordinator.get("/cases")
            assert page.status_code == 503 and page.headers["Retry-After"] == "5"
            answer = api.get("/api/v1/cases", headers=bearer)
            assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
            assert answer.json()["error"]["code"] == "busy"
        assert api.get("/healthz").status_code == 200
        assert api.get("/readyz").status_code == 503
    finally:
        stack.pg_ctl("start")
    deadline = time.monotonic() + 30
    answers = []
    while time.monotonic() < deadline:
        answers = [coordinator.get("/cases").status_code, coordinator.get("/cases").status_code,
                   api.get("/api/v1/cases", headers=bearer).status_code, api.get("/api/v1/cases", headers=bearer).status_code]
        if answers == [200] * 4:
            break
        time.sleep(0.5)
    assert answers == [200] * 4
    assert {name: stack.procs[name].pid for name in pids} == pids
    assert all(stack.procs[name].poll() is None for name in pids)  # not restarted


def test_the_journey_goes_on_when_an_app_server_is_killed(stack, coordinator):
    case_id = _a_case_id(coordinator)
    answers: list[int] = []
    stop = threading.Event()

    def keep_reading():
        reader = Browser(stack)
        reader.session.cookies.update(coordinator.session.cookies)
        while not stop.is_set():
            answers.append(reader.get(f"/cases/{case_id}").status_code)

    thread = threading.Thread(target=keep_reading)
    thread.start()
    time.sleep(1.0)
    before = len(answers)
    stack.kill("app_a")  # SIGKILL to its master and workers, requests in flight
    time.sleep(1.5)
    stop.set()
    thread.join(timeout=30)
    assert before > 5 and len(answers) > before + 5
    assert set(answers) == {200}, sorted(set(answers))
    # The journey goes on, all through app_b now.
    token = coordinator.token(f"/cases/{case_id}")
    response = coordinator.post(f"/cases/{case_id}/attachments", {"csrf_token": token},
                                files={"file": ("surat.png", PNG, "image/png")})
    assert response.status_code == 302
    page = coordinator.get(f"/cases/{case_id}")
    assert page.status_code == 200
    attachment = re.findall(rf'/cases/{case_id}/attachments/(\d+)', page.text)[-1]
    download = coordinator.get(f"/cases/{case_id}/attachments/{attachment}")
    assert download.status_code == 200 and download.content == PNG
    assert set(coordinator.upstreams[-4:]) == {f"127.0.0.1:{stack.ports['app_b']}"}
