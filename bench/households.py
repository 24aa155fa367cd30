"""Measure the household views on the million-case database: gives generated cases households
first (once), then times the household API and the case page with its family panel.

    cp /work/bench-data/bench.db /work/bench-data/households.db
    CASEMGMT_DATABASE_URL=sqlite:////work/bench-data/households.db flask --app casemgmt db upgrade
    python bench/households.py --database-url sqlite:////work/bench-data/households.db [--households 50000]

Households are made from cases of one village registered one after another, two to four
children each, as siblings reported together or one after another would be: a share of a
district's children, as a registry that has collected KK numbers for some years would hold.
Never run against /work/bench-data/bench.db itself: it writes.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import PASSWORD, pct, speed_probe  # noqa: E402


def give_households(db, want: int, rng: random.Random) -> int:
    """Up to ``want`` households over the children of the 73.06 and 73.71 cases; returns how many
    the database holds."""
    from sqlalchemy import func, select, text

    from casemgmt.cases.models import Case, Child, Household

    have = db.session.scalar(select(func.count(Household.id)))
    if have:  # made once: the children already placed would be moved again
        return have
    rows = db.session.execute(select(Case.child_id, Case.area_code).where(Case.district_code.in_(("73.06", "73.71")))
                              .order_by(Case.area_code, Case.id)).all()
    made, i, serial = have, 0, have + 1
    batch = []
    while made < want and i < len(rows):
        size = rng.choice((2, 2, 3, 4))
        group = [r for r in rows[i:i + size] if r.area_code == rows[i].area_code]
        i += size + rng.randrange(0, 20)  # most children have no household
        if len(group) < 2:
            continue
        area = group[0].area_code
        kk = area.replace(".", "")[:6] + f"{serial:010d}"
        serial += 1
        batch.append((kk, area, [g.child_id for g in group]))
        made += 1
        if len(batch) == 5000:
            _write(db, batch, rng)
            batch = []
    _write(db, batch, rng)
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    return made


def _write(db, batch, rng):
    from sqlalchemy import insert, select, update

    from casemgmt.cases.models import Child, Household
    from casemgmt.dbtypes import utcnow

    if not batch:
        return
    now = utcnow()
    db.session.execute(insert(Household), [{"kk_number": kk, "area_code": area, "version": 1, "created_at": now,
                                            "updated_at": now, "head_name": "Kepala Keluarga Bench",
                                            "head_sex": rng.choice("FM")} for kk, area, _ in batch])
    ids = dict(db.session.execute(select(Household.kk_number, Household.id).where(
        Household.kk_number.in_([kk for kk, _, _ in batch]))).all())
    for kk, _area, children in batch:
        db.session.execute(update(Child).where(Child.id.in_(children)).values(
            household_id=ids[kk], relationship_to_head="4"))
    db.session.commit()


def measure(name, call, n):
    for _ in range(3):
        call()
    times = []
    for _ in range(n):
        start = time.perf_counter()
        status = call()
        times.append((time.perf_counter() - start) * 1000)
        assert status == 200, f"{name}: HTTP {status}"
    print(f"{name:<52} p50 {statistics.median(times):7.1f} ms   p95 {pct(times, 95):7.1f} ms", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    if args.database_url.rstrip("/").endswith("/bench-data/bench.db"):
        sys.exit("copy the bench database first: this writes")
    os.environ["CASEMGMT_INSTANCE_PATH"] = str(ROOT / "bench" / "instance")
    os.environ["CASEMGMT_DATABASE_URL"] = args.database_url
    os.environ["CASEMGMT_RATELIMIT_ENABLED"] = "0"

    from sqlalchemy import func, select

    from casemgmt import create_app
    from casemgmt.accounts.models import User
    from casemgmt.cases.models import Case, Child, Household
    from casemgmt.extensions import db

    app = create_app()
    rng = random.Random(26)
    with app.app_context():
        start = time.perf_counter()
        count = give_households(db, args.households, rng)
        print(f"Households: {count} ({time.perf_counter() - start:.0f} s to make the missing ones); "
              f"cases: {db.session.scalar(select(func.count(Case.id)))}", flush=True)
        coordinator = db.session.scalar(select(User).where(User.role == "coordinator", User.area_code == "73.06"))
        # A sample of the district's households, and one case of each (the page that shows it).
        sample = db.session.execute(select(Household.id, func.min(Case.id))
                                    .join(Child, Child.household_id == Household.id)
                                    .join(Case, Case.child_id == Child.id).where(Case.district_code == "73.06")
                                    .group_by(Household.id).limit(5000)).all()
        sample = rng.sample(sample, min(len(sample), args.iterations + 10))
        # Cases of the district with no household, for the case page as it was.
        plain = list(db.session.scalars(select(Case.id).join(Child, Child.id == Case.child_id).where(
            Case.district_code == "73.06", Child.household_id.is_(None)).limit(5000)))
        plain = rng.sample(plain, min(len(plain), args.iterations + 10))
        worker_row = db.session.execute(select(Case.assigned_worker_id, Child.household_id).join(
            Child, Child.id == Case.child_id).where(Case.district_code == "73.06", Child.household_id.is_not(None),
                                                    Case.assigned_worker_id.is_not(None)).limit(1)).first()
        worker = db.session.get(User, worker_row[0])
        usernames = (coordinator.username, worker.username)
    probe = speed_probe(app)
    print(f"Speed probe: /healthz in process {probe:.0f} us (p50); load average {os.getloadavg()}", flush=True)

    client = app.test_client()
    headers = {}
    for username in usernames:
        token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()["token"]
        headers[username] = {"Authorization": f"Bearer {token}"}
    web = app.test_client()
    page = web.get("/login").get_data(as_text=True)
    csrf = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    web.post("/login", data={"username": usernames[0], "password": PASSWORD, "csrf_token": csrf})

    picks = iter(sample * 10)
    n = args.iterations
    measure("household API, coordinator", lambda: client.get(
        f"/api/v1/households/{next(picks)[0]}", headers=headers[usernames[0]]).status_code, n)
    picks = iter(sample * 10)
    measure("one case API, coordinator (for comparison)", lambda: client.get(
        f"/api/v1/cases/{next(picks)[1]}", headers=headers[usernames[0]]).status_code, n)
    worker_household = worker_row[1]
    measure("household API, social worker (one of theirs)", lambda: client.get(
        f"/api/v1/households/{worker_household}", headers=headers[usernames[1]]).status_code, n)
    picks = iter(sample * 10)
    measure("case page with its family panel, coordinator", lambda: web.get(
        f"/cases/{next(picks)[1]}").status_code, n)
    plains = iter(plain * 10)
    measure("case page without a household, coordinator", lambda: web.get(
        f"/cases/{next(plains)}").status_code, n)
    print(f"load average after: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
