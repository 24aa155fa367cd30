"""The notification outbox on the million-case database, by hand (bench/RESULTS.md):

    python bench/notify.py --database-url sqlite:////work/bench-data/notify.db

1. The overdue sweep with about 10,000 notifications to write (the cases newly overdue chosen so
   that their workers and districts' coordinators make 10,000): its time, the process's peak
   memory, the delivery rows it handed to the worker, then how long the worker's claim of all of
   them takes (claimed, not sent); a second sweep right after, which must write nothing.
2. The extra cost of the notification rows on a referral and on a transition (a triage that
   assigns a worker): the time spent inside the notify calls of each operation, p50 and p95
   over --iterations runs, each rolled back; and the whole event hook (events.referral_sent,
   events.after_transition: the recipients' lookup as well as the rows).

Only e-mail is configured (planned, never sent) unless --all-channels adds Web Push (a new VAPID
key) and the SMS gateway (a closed port): the outbox then plans three deliveries per notice.

The database is changed (cases made overdue, e-mail addresses given): use a copy.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--notifications", type=int, default=10_000)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--skip-sweep", action="store_true", help="measure the cost per operation only")
    parser.add_argument("--all-channels", action="store_true", help="configure push and SMS as well as e-mail")
    args = parser.parse_args()
    os.environ["CASEMGMT_DATABASE_URL"] = args.database_url
    os.environ.setdefault("CASEMGMT_SMTP_URL", "smtp://127.0.0.1:1")  # planned, never sent here
    if args.all_channels:
        from casemgmt.notify.push import new_key_pair

        os.environ.setdefault("CASEMGMT_VAPID_PRIVATE_KEY", new_key_pair()[0])
        os.environ.setdefault("CASEMGMT_VAPID_SUBJECT", "mailto:bench@example.id")
        os.environ.setdefault("CASEMGMT_SMS_GATEWAY_URL", "http://127.0.0.1:1/sms")
        os.environ.setdefault("CASEMGMT_SMS_GATEWAY_SECRET", "bench")
    os.environ.setdefault("CASEMGMT_CHECK_SERVICES", "0")
    from sqlalchemy import func, select, update

    from casemgmt import create_app
    from casemgmt.access import coordinators_of
    from casemgmt.accounts.models import User
    from casemgmt.cases.models import Case
    from casemgmt.dbtypes import utcnow
    from casemgmt.extensions import db
    from casemgmt.notify import delivery
    from casemgmt.notify.models import Delivery, Notification
    from casemgmt.transactions import commit
    from casemgmt.workflow import sweep

    app = create_app()
    with app.app_context():
        now = utcnow()
        print("load average", os.getloadavg())
        if args.skip_sweep:
            return cost(args)
        db.session.execute(update(User).where(User.email.is_(None)).values(email=User.username + "@bench.example"))
        # Every case already overdue counts as told; then the chosen ones become newly overdue.
        db.session.execute(update(Case).where(Case.overdue_at(now), Case.overdue_notified_at.is_(None))
                           .values(overdue_notified_at=now))
        commit()
        coordinators = {}
        chosen, expected = [], 0
        # Open cases with a worker, each given a new deadline an hour ago (as a stage's clock would).
        rows = db.session.execute(select(Case.id, Case.district_code, Case.assigned_worker_id)
                                  .where(Case.status == "open", Case.assigned_worker_id.isnot(None))
                                  .order_by(Case.id.desc()).limit(args.notifications))
        for case_id, district, worker in rows:
            if district not in coordinators:
                coordinators[district] = len(coordinators_of(district))
            chosen.append(case_id)
            expected += 1 + coordinators[district]
            if expected >= args.notifications:
                break
        for start in range(0, len(chosen), 500):
            db.session.execute(update(Case).where(Case.id.in_(chosen[start:start + 500]))
                               .values(due_at=now - timedelta(hours=1), overdue_notified_at=None))
        commit()
        print(f"{len(chosen)} cases made overdue, {expected} notifications expected")
        before_rss = rss_mb()
        started = time.perf_counter()
        result = sweep.sweep_overdue(now)
        took = time.perf_counter() - started
        pending = db.session.scalar(select(func.count(Delivery.id)).where(Delivery.status == "pending"))
        print(f"sweep: {result} in {took:.1f} s; peak RSS {before_rss:.0f} -> {rss_mb():.0f} MB; "
              f"{pending} deliveries pending")
        started = time.perf_counter()
        claimed = 0
        later = now + timedelta(hours=10)  # past any quiet hours the sweep ran in
        while token := delivery.claim(later, 500):
            claimed += db.session.scalar(select(func.count(Delivery.id)).where(Delivery.claim_token == token))
        print(f"worker's claim of them: {claimed} in {time.perf_counter() - started:.1f} s")
        notes = db.session.scalar(select(func.count(Notification.id)))
        started = time.perf_counter()
        again = sweep.sweep_overdue(now)
        print(f"second sweep: {again} in {time.perf_counter() - started:.1f} s, "
              f"{db.session.scalar(select(func.count(Notification.id))) - notes} new notifications")
        # Put the claims back so the database copy can be reused.
        db.session.execute(update(Delivery).values(status="pending", claim_token=None))
        commit()

        cost(args)


def cost(args):
    """2. The cost of the notification rows on a referral and a transition."""
    from sqlalchemy import select

    from casemgmt.accounts.models import User
    from casemgmt.cases.models import Case
    from casemgmt.extensions import db
    from casemgmt.notify import outbox

    from casemgmt.notify import events
    from casemgmt.referrals import services as referrals
    from casemgmt.workflow import services as workflow

    spent, rows, cpu_spent, hook_cpu = [], [], [], []
    def timed(real):
        def call(*a, **kw):
            db.session.flush()  # what the operation wrote before is its own cost, not the notices'
            t, cpu = time.perf_counter(), time.process_time()
            ids = real(*a, **kw)
            spent[-1] += time.perf_counter() - t
            cpu_spent[-1] += time.process_time() - cpu
            rows[-1] += len(ids)
            return ids
        return call

    def hooked(real):
        def call(*a, **kw):
            db.session.flush()
            cpu = time.process_time()
            real(*a, **kw)
            hook_cpu[-1] += time.process_time() - cpu
        return call

    # The events call notify (one event) or notify_many (several at once, as a triage does).
    events.notify, events.notify_many = timed(outbox.notify), timed(outbox.notify_many)
    events.referral_sent, events.after_transition = hooked(events.referral_sent), hooked(events.after_transition)
    referral_ms, transition_ms, referral_total, transition_total = [], [], [], []
    cases = list(db.session.execute(
        select(Case.id).where(Case.status == "open", Case.stage == "intervention",
                              Case.assigned_worker_id.isnot(None)).order_by(Case.id).limit(args.iterations)).scalars())
    reports = list(db.session.execute(
        select(Case.id).where(Case.status == "open", Case.stage == "report").order_by(Case.id)
        .limit(args.iterations)).scalars())
    from casemgmt.directory.models import Organisation

    for case_id in cases:
        case = db.session.get(Case, case_id)
        worker = db.session.get(User, case.assigned_worker_id)
        org = db.session.scalar(select(Organisation).where(Organisation.area_code.like(case.district_code + "%"),
                                                            Organisation.id != worker.organisation_id,
                                                            Organisation.active.is_(True)).limit(1))
        if org is None or not org.services:
            continue
        spent.append(0.0)
        rows.append(0)
        cpu_spent.append(0.0)
        hook_cpu.append(0.0)
        t = time.perf_counter()
        referrals.make_referral(case, worker, to_organisation_id=org.id, service=org.services[0],
                                reason="Bench.", consent={"given_by": "caregiver", "recorded_on": date.today()})
        referral_total.append(time.perf_counter() - t)
        referral_ms.append(spent[-1])
        db.session.rollback()
    for case_id in reports:
        case = db.session.get(Case, case_id)
        coordinator = db.session.scalar(select(User).where(User.role == "coordinator",
                                                           User.area_code == case.district_code).limit(1))
        worker = db.session.scalar(select(User).where(User.role == "social_worker",
                                                      User.area_code.like(case.district_code + "%"),
                                                      User.active.is_(True)).limit(1))
        if coordinator is None or worker is None:
            continue
        spent.append(0.0)
        rows.append(0)
        cpu_spent.append(0.0)
        hook_cpu.append(0.0)
        t = time.perf_counter()
        workflow.apply_transition(case, "accept", coordinator, {"risk_level": "medium",
                                                                "assigned_worker_id": worker.id})
        db.session.flush()
        transition_total.append(time.perf_counter() - t)
        transition_ms.append(spent[-1])
        db.session.rollback()
    n = len(referral_ms)
    for name, extra, total, cpu, hook in (
            ("referral", referral_ms, referral_total, cpu_spent[:n], hook_cpu[:n]),
            ("transition (accept)", transition_ms, transition_total, cpu_spent[n:], hook_cpu[n:])):
        if extra:
            print(f"{name}: notify CPU time p50 {pct(cpu, 50) * 1000:.2f} ms, p95 {pct(cpu, 95) * 1000:.2f} ms; "
                  f"whole event hook CPU p50 {pct(hook, 50) * 1000:.2f} ms, p95 {pct(hook, 95) * 1000:.2f} ms")
            print(f"{name}: {len(extra)} runs, {sum(rows[:len(extra)]) if name == 'referral' else sum(rows[-len(extra):])} "
                  f"notifications in all; notify p50 {pct(extra, 50) * 1000:.2f} ms, "
                  f"p95 {pct(extra, 95) * 1000:.2f} ms; whole operation p50 {pct(total, 50) * 1000:.1f} ms, "
                  f"p95 {pct(total, 95) * 1000:.1f} ms")
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
