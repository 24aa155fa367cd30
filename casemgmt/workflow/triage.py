"""The coordinator's queues: open cases counted by stage and worker, new complaints to triage,
the most overdue cases, and the approvals that wait."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import false, func, select
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy import case as sql_case

from casemgmt import paging
from casemgmt.accounts.services import named_counts
from casemgmt.access import scope_cases, scope_district
from casemgmt.cases.models import Case, Child
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from casemgmt.workflow import kept_counts
from casemgmt.workflow.models import Approval



@dataclass
class OpenCounts:
    """The open cases of a user's scope counted by stage and by worker, read in one pass over an
    index, never loaded: a district holds tens of thousands of open cases, far too many to load
    for the triage page or the coordinator's home. ``rows``: (stage, worker id or None, open,
    overdue); ``names``: worker id -> (full name, username)."""
    rows: list[tuple[str, int | None, int, int]]
    names: dict[int, tuple[str, str]]

    def by_stage(self, overdue: bool = False) -> dict[str, int]:
        counts: Counter = Counter()
        for stage, _worker, n, late in self.rows:
            counts[stage] += late if overdue else n
        return {stage: n for stage, n in counts.items() if n}

    def by_worker(self, overdue: bool = False) -> dict[str | None, int]:
        """Per worker, by name (a name two workers share gets each one's username: named_counts),
        in name order; None: not assigned yet. Only those with some."""
        counts: Counter = Counter()
        for _stage, worker, n, late in self.rows:
            counts[worker] += late if overdue else n
        unassigned = counts.pop(None, 0)
        people = sorted((*self.names[w], n) for w, n in counts.items() if n)
        out: dict[str | None, int] = dict(named_counts(people))
        if unassigned:
            out[None] = unassigned
        return out


def open_counts(user, now: datetime | None = None, assigned_to_me: bool = False) -> OpenCounts:
    """OpenCounts of the cases the user may see (scope_cases), or of those assigned to them."""
    from casemgmt.accounts.models import User

    now = now or utcnow()
    late = func.count(sql_case((Case.overdue_at(now), 1)))

    def count():
        return [tuple(row) for row in db.session.execute(
            scope_cases(user, select(Case.stage, Case.assigned_worker_id, func.count(), late), assigned_to_me)
            .where(Case.status == "open").group_by(Case.stage, Case.assigned_worker_id))]

    district = None if assigned_to_me else scope_district(user)
    # A whole district's (the coordinator's scope): kept a minute at most (workflow.kept_counts).
    rows = kept_counts.kept(district, "open", now, count) if district else count()
    ids = {worker for _stage, worker, _n, _late in rows if worker is not None}
    names = {uid: (name, username) for uid, name, username in db.session.execute(
        select(User.id, User.full_name, User.username).where(User.id.in_(ids)))} if ids else {}
    return OpenCounts(rows, names)


TRIAGE_PAGE = 25  # new complaints a triage page lists, a page as the API's lists (API.md)
OVERDUE_SHOWN = 25  # the most overdue cases the triage page lists; the case list filters the rest
URGENT, NOT_URGENT = "urgent", "other"  # the queue's two parts, listed in this order


@dataclass
class TriageBoard:
    queue: list[Case]  # a page of new complaints, urgent first then oldest
    queue_next: str | None  # the cursor of the queue's next page
    waiting: int  # new complaints in all
    overdue: list  # the most overdue open cases (id, number, stage, due_at), at most OVERDUE_SHOWN
    overdue_total: int
    by_stage: dict[str, int]  # overdue cases by stage
    by_worker: list[tuple[str | None, int]]  # overdue cases by worker's name (None: not assigned yet), most first


def triage_queue(user, cursor: str | None = None, limit: int | None = None) -> tuple[list[Case], str | None]:
    """A page of the new complaints (open, at the report stage) the user may see, urgent ones
    first, each part oldest first, and the cursor of the next page (paging.in_parts). Each part
    is read through the (district, status, stage, urgent, created_at, id) index, a page at a
    time. A complaint marked urgent while a coordinator pages is on the first pages, not again on
    the later ones."""
    # What the page shows of each: the case, its complaint, its child and village; not the worker
    # (none yet), the concerns or the child's own village, which Case and Child load by default.
    base = scope_cases(user).where(Case.status == "open", Case.stage == "report").options(
        lazyload(Case.assigned_worker), lazyload(Case.concern_rows), joinedload(Case.child).lazyload(Child.area))

    def part(urgent: bool):
        def read(after, room):
            query = base.where(Case.urgent == urgent)
            if after:
                query = query.where(*paging.after(Case.created_at, Case.id, *after))
            return list(db.session.scalars(query.order_by(Case.created_at, Case.id).limit(room)))
        return read

    return paging.in_parts([(URGENT, part(True)), (NOT_URGENT, part(False))], cursor,
                           paging.page_size(limit or TRIAGE_PAGE),
                           lambda case: (URGENT if case.urgent else NOT_URGENT, case.created_at, case.id))


def triage_board(user, now: datetime | None = None, cursor: str | None = None) -> TriageBoard:
    """What the coordinator's triage page shows, from the cases the user may see (scope_cases):
    a page of the queue, the most overdue cases and the counts, each bounded however large the
    district (its open cases are counted, not loaded)."""
    now = now or utcnow()
    queue, queue_next = triage_queue(user, cursor)  # first: a spoiled cursor is refused before counting
    counts = open_counts(user, now)
    # Their number, stage and deadline, as the page lists them: rows, not cases with all they load.
    overdue = list(db.session.execute(scope_cases(user, select(Case.id, Case.number, Case.stage, Case.due_at))
                                      .where(Case.overdue_at(now)).order_by(Case.due_at, Case.id)
                                      .limit(OVERDUE_SHOWN)))
    by_stage = counts.by_stage(overdue=True)
    by_worker = sorted(counts.by_worker(overdue=True).items(), key=lambda kv: -kv[1])
    return TriageBoard(queue, queue_next, counts.by_stage().get("report", 0), overdue,
                       sum(by_stage.values()), by_stage, by_worker)


def approvals_query(actor, status: str | None = "pending"):
    """The approvals the user may see (a coordinator's district's, a worker's own requests), as a
    select in no order, to narrow further; nothing for those who see no approvals."""
    query = _approvals_of(actor, status, select(Approval))
    return query.order_by(None) if query is not None else select(Approval).where(false())


def approvals_page(actor, status: str | None, *, limit: int = 25,
                   cursor: str | None = None) -> tuple[list[Approval], str | None]:
    """A page of approvals_query, oldest request first, and the next page's cursor: a district's
    decided approvals grow with every case, so the API reads them a page at a time."""
    query = approvals_query(actor, status).order_by(Approval.requested_at, Approval.id)
    if cursor:
        query = query.where(*paging.after(Approval.requested_at, Approval.id,
                                          *paging.read_cursor(cursor, datetime, int)))
    limit = paging.page_size(limit)
    return paging.page(list(db.session.scalars(query.limit(limit + 1))), limit, lambda a: (a.requested_at, a.id))


def approvals_with_cases(actor, status: str | None = "pending") -> list[tuple[Approval, Case]]:
    """approvals_query's approvals, each with its case, read in the same query (the approvals page)."""
    query = _approvals_of(actor, status, select(Approval, Case))
    return [(approval, case) for approval, case in db.session.execute(query)] if query is not None else []


def _approvals_of(actor, status: str | None, query):
    """Approvals on cases the actor may see (access.scope_cases): all of them for a coordinator,
    a worker's own requests (on cases they still hold)."""
    if actor.role not in ("coordinator", "social_worker"):
        return None
    query = scope_cases(actor, query.join(Case, Case.id == Approval.case_id))
    if status:
        query = query.where(Approval.status == status)
    if actor.role == "social_worker":
        query = query.where(Approval.requested_by_id == actor.id)
    return query.order_by(Approval.requested_at, Approval.id)
