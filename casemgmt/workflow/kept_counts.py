"""Counts over a whole district's open cases, kept for the pages a coordinator opens first.

The coordinator's home and triage page count tens of thousands of open cases by stage, worker
and deadline, and the cases due for a conference review; counted afresh, that is most of each
page's time in a large district. A count is kept (in this process) and shown again while all of
these hold:

- it is at most ``KEEP`` old: cases pass their deadline or their review date with time alone,
  and a change made by another process is seen within that time at the latest;
- no case, conference or district setting of the district changed in this process since it was
  counted (``_touched`` marks them as sessions flush; committed, they drop the count), nor in
  the transaction asking (it counts its own changes);
- no case of the district was saved by any process since it was counted, less ``SLACK`` for a
  transaction that saved a case before the count and committed after it
  (ix_case_record_district_updated answers this in one index probe).

A count asked for at another time than ``now`` of the count kept (a report for a given
moment, a test's clock) is counted afresh.
"""
from __future__ import annotations

import threading
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Callable, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from casemgmt.cases.models import Case
from casemgmt.extensions import db

KEEP = timedelta(seconds=60)
SLACK = timedelta(seconds=10)

T = TypeVar("T")

_lock = threading.Lock()
_kept: dict[tuple[str, str], tuple[datetime, int, object]] = {}
_generation: dict[str, int] = defaultdict(int)


def kept(district: str, kind: str, now: datetime, count: Callable[[], T]) -> T:
    """``count()``, or what it gave when last asked for this district and kind, while valid."""
    if db.session.new or db.session.dirty or db.session.deleted:
        db.session.flush()  # as the count's query would: this transaction's changes are marked
    if {district, "*"} & db.session.info.get("kept_counts_districts", set()):
        return count()  # the district changed in this transaction, not yet committed: its own count
    generation = _generation[district]  # read first: a change committed while counting drops the count
    hit = _kept.get((district, kind))
    if hit is not None:
        counted_at, counted_generation, value = hit
        if (counted_generation == generation and counted_at <= now < counted_at + KEEP
                and not _saved_since(district, counted_at - SLACK)):
            return value  # type: ignore[return-value]
    value = count()
    with _lock:
        _kept[(district, kind)] = (now, generation, value)
    return value


def _saved_since(district: str, since: datetime) -> bool:
    return db.session.scalar(select(Case.id).where(Case.district_code == district, Case.updated_at > since)
                             .limit(1)) is not None


def forget() -> None:
    """Drops every kept count (a database emptied under the process, as between tests)."""
    with _lock:
        _kept.clear()
        _generation.clear()


def _districts_of(obj) -> set[str]:
    from casemgmt.conferences.models import CaseConference, ConferenceCase
    from casemgmt.directory.models import DistrictSettings

    if isinstance(obj, Case):
        history = inspect(obj).attrs["district_code"].history
        return {d for d in (obj.district_code, *(history.deleted or ())) if d}
    if isinstance(obj, CaseConference):
        return {obj.district_code} if obj.district_code else set()
    if isinstance(obj, ConferenceCase):
        return {"*"}  # rare (a conference's agenda): every district's counts, not a lookup mid-flush
    if isinstance(obj, DistrictSettings):
        return {obj.area_code}
    return set()


def _touched(session: Session, _context, _instances) -> None:
    marks = session.info.setdefault("kept_counts_districts", set())
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        marks |= _districts_of(obj)


def _committed(session: Session) -> None:
    districts = session.info.pop("kept_counts_districts", None)
    if not districts:
        return
    with _lock:
        if "*" in districts:
            _kept.clear()
        for district in districts - {"*"}:
            _generation[district] += 1


def _rolled_back(session: Session, *_args) -> None:
    session.info.pop("kept_counts_districts", None)


def install() -> None:
    """Marks the districts each session changes."""
    from casemgmt.dbsetup import listen_to_sessions

    listen_to_sessions(before_flush=_touched, after_commit=_committed, after_rollback=_rolled_back)
