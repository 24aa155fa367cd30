"""Measure what the field waits for, on the benchmark database (bench/generate.py first).

    python bench/run.py [--database-url URL] [--iterations 100] [--skip-http] [--export-rows 100000]
                        [--only WORDS ...]

--only runs the operations whose name holds one of the words ("case page", "XLSX", "http" for
the gunicorn part, which a filtered run otherwise skips); the section it appends says so.

Server time of each operation is measured in-process (the WSGI app called directly, no network),
p50 and p95 over repeated calls: 100 by default, so that the p95 is the sixth slowest call and
not, as with the 30 of the first sessions, the second slowest, which one hiccup of this machine
moved by several milliseconds (the case page's p95 in runs of the same code: 20.8 to 27.7 ms
with 30 calls). Then gunicorn serves the app on loopback and a second process
loads it, so a trivial endpoint's requests per second give the ceiling every figure can be
compared with. Results are appended to bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PASSWORD = "Bench-password-2026"


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


ONLY: list[str] = []


def selected(name: str) -> bool:
    return not ONLY or any(word in name for word in ONLY)


def measure(name, call, n, rows):
    if not selected(name):
        return
    for _ in range(min(3, n)):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status = call()
        times.append((time.perf_counter() - start) * 1000)
        assert status in (200, 201, 202, 302), f"{name}: HTTP {status}"
    rows.append((name, statistics.median(times), pct(times, 95), 1000 / statistics.mean(times), n))
    print(f"{name:<48} p50 {statistics.median(times):8.1f} ms   p95 {pct(times, 95):8.1f} ms", flush=True)


def speed_probe(app) -> float:
    """The trivial endpoint's server time in process, p50 of 300 calls in microseconds: the
    in-process counterpart of the gunicorn ceiling. This machine's speed swings about twofold
    within an hour (/healthz under gunicorn 1,102 requests/s at 20:12, 682 at 21:02), so each
    run records it before and after: runs made at different speeds are not comparable. (A pure
    arithmetic loop did not follow those swings: 211 ms in the slow run of 21:01.)"""
    client = app.test_client()
    for _ in range(50):
        client.get("/healthz")
    times = []
    for _ in range(300):
        start = time.perf_counter()
        client.get("/healthz")
        times.append((time.perf_counter() - start) * 1e6)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=f"sqlite:///{ROOT / 'bench' / 'instance' / 'bench.db'}")
    parser.add_argument("--iterations", type=int, default=100)
    parser.add_argument("--skip-http", action="store_true", help="skip the gunicorn throughput part")
    parser.add_argument("--export-rows", type=int, default=100_000, help="rows of the XLSX export to time")
    parser.add_argument("--only", action="append", default=[], help="run the operations whose name holds this")
    parser.add_argument("--export-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    ONLY.extend(args.only)
    os.environ["CASEMGMT_INSTANCE_PATH"] = str(ROOT / "bench" / "instance")
    os.environ["CASEMGMT_DATABASE_URL"] = args.database_url
    os.environ["CASEMGMT_RATELIMIT_ENABLED"] = "0"

    from sqlalchemy import func, select

    from casemgmt import create_app
    from casemgmt.accounts.models import User
    from casemgmt.cases.models import Case
    from casemgmt.conferences.models import CaseConference
    from casemgmt.extensions import db

    if args.export_only:  # as the background worker runs it, with the worker's app
        from casemgmt import jobs

        app = jobs.app()
        with app.app_context():
            from casemgmt.cases.records import CaseFilters
            import tempfile

            from casemgmt.reports.exports import write

            user = db.session.scalar(select(User).where(User.role == "coordinator", User.area_code == "73.71"))
            with tempfile.TemporaryDirectory() as scratch:  # as exports.run writes before storing it
                start = time.perf_counter()
                written = write(Path(scratch) / "bench.xlsx", "xlsx", user, CaseFilters(), limit=args.export_rows)
                seconds = time.perf_counter() - start
            # Mapped pages of the database file count in the peak RSS, though the OS may drop them
            # at will: the job's own memory (anonymous) is told apart, as it stands at the end.
            status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            own, mapped = (int(status[key].split()[0]) / 1024 for key in ("RssAnon", "RssFile"))
            print(json.dumps([written, seconds, own, mapped]))
        return
    app = create_app()
    probe_before = speed_probe(app)
    print(f"Speed probe: /healthz in process {probe_before:.0f} us (p50)", flush=True)
    rng = random.Random(1)
    rows: list = []
    n = args.iterations
    with app.app_context():
        total = db.session.scalar(select(func.count(Case.id)))
        coordinator = db.session.scalar(select(User).where(User.role == "coordinator", User.area_code == "73.06"))
        worker_id = db.session.execute(select(Case.assigned_worker_id, func.count()).where(
            Case.district_code == "73.06", Case.assigned_worker_id.is_not(None))
            .group_by(Case.assigned_worker_id).order_by(func.count().desc()).limit(1)).first()[0]
        worker = db.session.get(User, worker_id)
        officer = db.session.scalar(select(User).where(User.role == "agency_officer", User.area_code == "73.06"))
        # Samples drawn over the whole district, not its lowest ids (the oldest cases, ids growing
        # with time as in a live registry), with the seeded rng: the first runs on the two
        # databases of one dataset measure the same cases, names and numbers. Each run then adds
        # complaints and moves cases on, so later runs draw other samples of the same kind; and
        # --only skips operations, so their draws differ from a full run's.
        district = list(db.session.scalars(select(Case.id).where(Case.district_code == "73.06").order_by(Case.id)))
        district_ids = rng.sample(district, min(len(district), 5000))
        reports = list(db.session.scalars(select(Case.id).where(Case.district_code == "73.06", Case.stage == "report")
                                          .order_by(Case.id)))
        report_ids = rng.sample(reports, min(len(reports), n + 10))
        conference_id = db.session.scalar(select(CaseConference.id).where(CaseConference.district_code == "73.06"))
        from casemgmt.cases.models import Child

        found = db.session.execute(select(Case.number, Child.name).join(Child, Child.id == Case.child_id)
                                   .where(Case.id.in_(district_ids[:200])).order_by(Case.id)).all()
        numbers, names = [row[0] for row in found], [row[1] for row in found]
        usernames = (coordinator.username, worker.username, officer.username)
        village = db.session.scalar(select(Case.area_code).where(Case.district_code == "73.06"))
    print(f"Dataset: {total} cases", flush=True)

    def session_for(username):
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
        return client

    def bearer(username):
        client = app.test_client()
        token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()["token"]
        return {"Authorization": f"Bearer {token}"}

    web = session_for(usernames[0])
    coord_api, worker_api, officer_api = bearer(usernames[0]), bearer(usernames[1]), bearer(usernames[2])
    api = app.test_client()

    measure("case list page, coordinator", lambda: web.get("/cases").status_code, n, rows)
    measure("case list page, coordinator, filtered", lambda: web.get(
        "/cases?stage=intervention&risk_level=high").status_code, n, rows)
    # A social worker's list: every case assigned to them or registered by them (the busiest
    # worker of the district holds some 2,800), and only those assigned to them.
    worker_web = session_for(usernames[1])
    measure("case list page, social worker (the busiest)", lambda: worker_web.get("/cases").status_code, n, rows)
    measure("case list API, coordinator", lambda: api.get("/api/v1/cases", headers=coord_api).status_code, n, rows)
    measure("case list API, social worker (the busiest)", lambda: api.get(
        "/api/v1/cases", headers=worker_api).status_code, n, rows)
    measure("case list API, social worker, assigned=me", lambda: api.get(
        "/api/v1/cases?assigned=me&status=open", headers=worker_api).status_code, n, rows)
    # What people search for: a child's name (two words, each matching thousands of cases) or a case number.
    measure("full-text search API, child's name", lambda: api.get(
        "/api/v1/cases", query_string={"q": rng.choice(names)}, headers=coord_api).status_code, n, rows)
    measure("full-text search API, case number", lambda: api.get(
        "/api/v1/cases", query_string={"q": rng.choice(numbers)}, headers=coord_api).status_code, n, rows)
    measure("full-text search API, one common word", lambda: api.get(
        "/api/v1/cases", query_string={"q": rng.choice(names).split()[0]}, headers=coord_api).status_code, n, rows)
    measure("case page", lambda: web.get(f"/cases/{rng.choice(district_ids)}").status_code, n, rows)
    # The pages each user opens first, which count or list a whole district's open cases (not
    # among issue #9's targets; bench/RESULTS.md, tenth session).
    measure("home page, coordinator", lambda: web.get("/").status_code, n, rows)
    measure("home page, social worker (the busiest)", lambda: worker_web.get("/").status_code, n, rows)
    measure("triage page", lambda: web.get("/triage").status_code, n, rows)
    measure("my tasks page, coordinator", lambda: web.get("/tasks").status_code, n, rows)
    measure("my tasks page, social worker (the busiest)", lambda: worker_web.get("/tasks").status_code, n, rows)
    measure("my tasks API, agency", lambda: api.get("/api/v1/tasks", headers=officer_api).status_code, n, rows)
    body = {"channel": "phone", "reporter": {"anonymous": True}, "concerns": ["out_of_school"],
            "description": "Benchmark.", "child": {"name": "Anak Uji", "sex": "F", "age_years": 9,
                                                   "area_code": village}}
    syllables = ["ra", "ni", "sa", "tu", "ma", "la", "di", "ko", "ba", "se", "wi", "ha"]

    # Seeded by the number of cases, which every run raises: a run's names differ from the last
    # run's, whose complaints would otherwise be found as duplicates of each one, run after run.
    name_rng = random.Random(total)

    def complaint():  # a different child each time, as in the field (one name repeated would be a duplicate)
        name = " ".join("".join(name_rng.choice(syllables) for _ in range(3)).title() for _ in range(2))
        return api.post("/api/v1/cases", json={**body, "child": {**body["child"], "name": name}},
                        headers=coord_api).status_code

    measure("create a complaint (API)", complaint, n, rows)
    with app.app_context():
        from sqlalchemy import select as sel

        # Read before timing: the timed call is the request alone.
        versions = dict(db.session.execute(sel(Case.id, Case.version).where(Case.id.in_(report_ids))).all())

        def accept():
            case_id = report_ids.pop()
            version = versions[case_id]
            return api.post(f"/api/v1/cases/{case_id}/transitions", headers=coord_api, json={
                "name": "accept", "version": version,
                "data": {"risk_level": "medium", "assigned_worker_id": worker_id}}).status_code
    measure("a transition (accept)", accept, min(n, len(report_ids) - 5), rows)
    measure("referral inbox API", lambda: api.get("/api/v1/referrals?box=inbox", headers=officer_api).status_code,
            n, rows)
    year_ago = (date.today() - timedelta(days=365)).isoformat()
    measure("indicators, district (1 year)", lambda: api.get(
        f"/api/v1/indicators?area_code=73.06&from={year_ago}", headers=coord_api).status_code, max(3, n // 5), rows)
    with app.app_context():
        from casemgmt.accounts.services import create_user, find_by_username

        if find_by_username("bench.analyst") is None:
            create_user({"username": "bench.analyst", "full_name": "Analis", "sex": "F", "role": "analyst",
                         "area_code": "73"}, PASSWORD, actor=None)
    analyst_api = bearer("bench.analyst")
    measure("indicators, province (1 year)", lambda: api.get(
        f"/api/v1/indicators?area_code=73&from={year_ago}", headers=analyst_api).status_code, 3, rows)
    measure("management indicators, district 73.06 (90 days)", lambda: api.get(
        "/api/v1/kpis?area_code=73.06", headers=coord_api).status_code, 3, rows)
    measure("management indicators, province (90 days)", lambda: api.get(
        "/api/v1/kpis?area_code=73", headers=analyst_api).status_code, 3, rows)
    measure("case summary PDF", lambda: api.get(f"/api/v1/cases/{rng.choice(district_ids)}/summary.pdf",
                                                headers=coord_api).status_code, max(3, n // 3), rows)
    measure("conference minutes PDF", lambda: api.get(f"/api/v1/conferences/{conference_id}/minutes.pdf",
                                                      headers=coord_api).status_code, max(3, n // 3), rows)
    if selected("XLSX export of 100,000 cases"):
        # In a process of its own, as the background worker runs it, so that its peak memory is its own.
        result = subprocess.run([sys.executable, __file__, "--export-only", "--database-url", args.database_url,
                                 "--export-rows", str(args.export_rows)], stdout=subprocess.PIPE, text=True,
                                check=True)  # its errors go to the terminal
        written, seconds, own, mapped = json.loads(result.stdout.strip().splitlines()[-1])
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        memory = f"job process peak RSS {peak:.0f} MB; at its end {own:.0f} MB its own, {mapped:.0f} MB files mapped"
        rows.append((f"XLSX export of {written} cases ({memory})", seconds * 1000, seconds * 1000, written / seconds, 1))
        print(f"XLSX export of {written} cases: {seconds:.1f} s, {memory}", flush=True)

    wanted = not args.skip_http and selected("http throughput")
    http = throughput(args.database_url, usernames[0]) if wanted else None
    write_results(args, total, rows, http, (probe_before, speed_probe(app)))


def throughput(database_url, username, seconds=10):
    """gunicorn on loopback, load from a second process: a trivial endpoint and the case list API."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "CASEMGMT_DATABASE_URL": database_url, "CASEMGMT_RATELIMIT_ENABLED": "0"}
    # The deployment the README documents: 4 sync workers (behind a buffering proxy).
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "4",
                               "-b", f"127.0.0.1:{port}", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        import urllib.request

        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/auth/token", method="POST",
                                         data=json.dumps({"username": username, "password": PASSWORD}).encode(),
                                         headers={"Content-Type": "application/json"})
        token = json.loads(urllib.request.urlopen(request).read())["token"]
        out = {}
        for name, path in (("trivial (/healthz)", "/healthz"), ("case list API", "/api/v1/cases")):
            result = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), str(port), path, token,
                                     str(seconds)], capture_output=True, text=True, check=True)
            out[name] = json.loads(result.stdout)
            print(f"{name}: {out[name]['rps']:.0f} requests/s", flush=True)
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


def write_results(args, total, rows, http, probes):
    lines = [f"\n## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {total:,} cases · "
             f"{'SQLite ' + sqlite3.sqlite_version if args.database_url.startswith('sqlite') else 'PostgreSQL'}",
             "", f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
             "Server time in-process, {0} calls per operation unless noted.".format(args.iterations)
             + (" Only the operations named with: " + ", ".join(ONLY) + "." if ONLY else "")
             + " Speed probe (run.speed_probe: /healthz in process, p50; lower is faster): {0:.0f} us "
               "before, {1:.0f} us after.".format(*probes), "",
             "| operation | p50 ms | p95 ms | per second | calls |", "|---|---|---|---|---|"]
    for name, p50, p95, rate, calls in rows:
        lines.append(f"| {name} | {p50:.1f} | {p95:.1f} | {rate:.1f} | {calls} |")
    if http:
        ceiling = http["trivial (/healthz)"]["rps"]
        lines += ["", "gunicorn, 4 sync workers (as the README deploys it), load from a second process on loopback:", "",
                  "| endpoint | requests/s | ratio to trivial |", "|---|---|---|"]
        for name, result in http.items():
            lines.append(f"| {name} | {result['rps']:.0f} | {result['rps'] / ceiling:.0%} |")
    with (ROOT / "bench" / "RESULTS.md").open("a") as fh:
        fh.write("\n".join(lines) + "\n")
    print("Appended to bench/RESULTS.md")


if __name__ == "__main__":
    main()
