"""Periodic jobs run once a period however many workers enqueue them (casemgmt.jobs.claim_period)."""
from __future__ import annotations

from huey.constants import EmptyData

from casemgmt import jobs

T = 1_800_000_000.0  # 2027-01-15 08:00 UTC, the start of a quarter hour


def _forget(name: str, seconds: int, now: float) -> None:
    for period in range(int(now // seconds) - 1, int(now // seconds) + 2):
        jobs.huey.storage.delete_data(f"casemgmt:period:{name}:{period}")


def test_a_period_is_claimed_once_and_the_one_before_is_let_go():
    _forget("test_job", 900, T + 900)
    assert jobs.claim_period("test_job", 900, now=T)
    assert not jobs.claim_period("test_job", 900, now=T + 899)  # a second worker, same quarter hour
    assert jobs.claim_period("test_job", 900, now=T + 900)
    assert jobs.huey.storage.peek_data(f"casemgmt:period:test_job:{int(T // 900)}") is EmptyData
    _forget("test_job", 900, T + 900)


def test_the_sweep_enqueued_by_two_workers_runs_once(app, monkeypatch):
    from casemgmt.workflow import sweep as workflow

    runs = []
    monkeypatch.setattr(workflow, "sweep_overdue", lambda: runs.append("sweep") or {"cases": 0})
    monkeypatch.setattr(jobs, "clock", lambda: T + 60)
    jobs.use_app(app)
    _forget("overdue_sweep", 900, T)
    # What each worker's scheduler does at the quarter hour, then what the consumer runs.
    first, second = jobs.overdue_sweep.s(), jobs.overdue_sweep.s()
    jobs.huey.execute(first)
    jobs.huey.execute(second)
    assert runs == ["sweep"]
    monkeypatch.setattr(jobs, "clock", lambda: T + 900 + 5)  # the next quarter hour
    jobs.huey.execute(jobs.overdue_sweep.s())
    assert runs == ["sweep", "sweep"]
    _forget("overdue_sweep", 900, T + 900)


def test_a_job_called_by_hand_is_not_held_back(app, monkeypatch):
    from casemgmt.workflow import sweep as workflow

    runs = []
    monkeypatch.setattr(workflow, "sweep_overdue", lambda: runs.append("sweep") or {"cases": 0})
    jobs.use_app(app)
    jobs.overdue_sweep.call_local()
    jobs.overdue_sweep.call_local()
    assert runs == ["sweep", "sweep"]
