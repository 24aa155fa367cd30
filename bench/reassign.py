"""Reassigning a caseload at scale (issue 27): a coordinator hands 2,000 open cases of one social
worker to another, every case's timeline and audit row written, in one transaction.

    python bench/reassign.py --database-url sqlite:////work/bench-data/<copy>.db [--cases 2000] [--runs 3]

Run it on a copy of the benchmark database (it changes who holds the cases). The setup gives one
worker of the largest district exactly ``--cases`` open cases with no request waiting for
approval (not timed); each run then moves them all, alternately "all open cases" of the worker
and the same cases named one by one, and checks that each case's timeline says so. Results are
appended to bench/RESULTS.md with the load average.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--district", default="73.71")
    args = parser.parse_args()
    os.environ["CASEMGMT_INSTANCE_PATH"] = str(ROOT / "bench" / "instance")
    os.environ["CASEMGMT_DATABASE_URL"] = args.database_url
    os.environ["CASEMGMT_RATELIMIT_ENABLED"] = "0"

    from sqlalchemy import func, select, update

    from casemgmt import create_app
    from casemgmt.accounts.models import User
    from casemgmt.cases.models import Case, CaseEvent
    from casemgmt.extensions import db
    from casemgmt.transactions import commit
    from casemgmt.transfers.caseload import reassign_caseload
    from casemgmt.workflow.models import Approval

    app = create_app()
    lines = []
    with app.test_request_context():
        district = args.district
        coordinator = db.session.scalar(select(User).where(User.role == "coordinator", User.area_code == district,
                                                           User.active.is_(True)))
        workers = list(db.session.scalars(select(User).where(User.role == "social_worker", User.active.is_(True),
                                                             User.area_code.like(district + "%"))
                                          .order_by(User.id).limit(3)))
        a, b, c = workers
        waiting = select(Approval.case_id).where(Approval.status == "pending")
        # Setup: a holds exactly --cases open cases, none waiting for approval.
        db.session.execute(update(Case).where(Case.assigned_worker_id == a.id, Case.status == "open",
                                              Case.id.in_(waiting)).values(assigned_worker_id=c.id))
        held = db.session.scalar(select(func.count()).select_from(Case).where(
            Case.assigned_worker_id == a.id, Case.status == "open"))
        if held > args.cases:
            extra = list(db.session.scalars(select(Case.id).where(Case.assigned_worker_id == a.id,
                                                                  Case.status == "open").limit(held - args.cases)))
            db.session.execute(update(Case).where(Case.id.in_(extra)).values(assigned_worker_id=c.id))
        elif held < args.cases:
            more = list(db.session.scalars(select(Case.id).where(
                Case.district_code == district, Case.status == "open", Case.assigned_worker_id.is_not(None),
                Case.assigned_worker_id.not_in([a.id, b.id]), Case.id.not_in(waiting)).limit(args.cases - held)))
            db.session.execute(update(Case).where(Case.id.in_(more)).values(assigned_worker_id=a.id))
        commit()
        ids = list(db.session.scalars(select(Case.id).where(Case.assigned_worker_id == a.id, Case.status == "open")))
        assert len(ids) == args.cases, len(ids)
        total = db.session.scalar(select(func.count(Case.id)))
        print(f"{total:,} cases; moving {len(ids)} open cases of worker {a.id} in {district}", flush=True)

        source, target = a, b
        for run in range(args.runs):
            reason = f"Bench run {run} {datetime.now(timezone.utc).isoformat()}"
            named = run % 2 == 1
            load = os.getloadavg()
            start = time.perf_counter()
            moved = reassign_caseload(coordinator, source.id, target.id, reason, case_ids=ids if named else None)
            commit()
            seconds = time.perf_counter() - start
            events = db.session.scalar(select(func.count()).select_from(CaseEvent).where(
                CaseEvent.kind == "reassigned", CaseEvent.comment == reason))
            now_held = db.session.scalar(select(func.count()).select_from(Case).where(
                Case.id.in_(ids), Case.assigned_worker_id == target.id))
            assert moved == events == now_held == len(ids), (moved, events, now_held)
            how = "the cases named" if named else "all open cases"
            line = (f"- run {run}: {moved:,} cases ({how}) in {seconds:.2f} s, {events:,} timeline events "
                    f"written; load average before {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
            print(line, flush=True)
            lines.append(line)
            source, target = target, source
    dialect = "SQLite" if args.database_url.startswith("sqlite") else "PostgreSQL"
    with open(ROOT / "bench" / "RESULTS.md", "a", encoding="utf-8") as out:
        out.write(f"\n## {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC · {total:,} cases · {dialect} · "
                  f"reassigning a caseload (bench/reassign.py)\n\n"
                  f"Target (issue 27): {args.cases:,} open cases at most 10 s, every timeline written.\n\n"
                  + "\n".join(lines) + f"\n- load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")


if __name__ == "__main__":
    main()
