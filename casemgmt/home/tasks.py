"""My tasks: what waits for a person, of every kind, in one order a page at a time (stage
deadlines of their cases, conference actions, referrals to answer, approvals to decide)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import lazyload

from casemgmt import paging
from casemgmt.access import scope_cases, scope_district, scope_referrals
from casemgmt.cases.models import Case
from casemgmt.conferences.models import Task
from casemgmt.dbtypes import utcnow
from casemgmt.errors import ValidationFailed
from casemgmt.extensions import db
from casemgmt.referrals.models import Referral
from casemgmt.workflow import kept_counts
from casemgmt.workflow.labels import transition_label
from casemgmt.workflow.deadlines import CLOCK_LABELS
from casemgmt.workflow.models import Approval, JuvenileClockRun
from casemgmt.workflow.stages import STAGES
from casemgmt.workflow.triage import approvals_query


@dataclass
class TaskItem:
    kind: str          # stage_deadline, conference_action, referral_answer, approval, juvenile_clock
    case_id: int | None
    description: str
    due_at: datetime | None
    overdue: bool
    link: tuple[str, dict]
    position: tuple    # its place in its kind's own order: (due column's value, row's id)

    @property
    def row_id(self) -> int:
        """The case's, conference action's, referral's or approval's id."""
        return self.position[1]


TASKS_PAGE = 25  # tasks a page of my tasks lists, as the API's lists (API.md) and a phone's screen hold them
# Each kind of task, in the cursor's order, with the type of the column its order reads first.
_KINDS = {"stage_deadline": datetime, "conference_action": date, "referral_answer": datetime, "approval": datetime,
          "juvenile_clock": datetime, "outreach": datetime}
_UNUSED = {datetime: datetime(1970, 1, 1, tzinfo=timezone.utc), date: date(1970, 1, 1)}


def _task_cursor(positions: dict[str, tuple]) -> str:
    """Where each kind of task stopped: which kinds have started ("1"), and each one's position
    (a kind not started holds a key of the right type that nothing reads)."""
    started = "".join("1" if kind in positions else "0" for kind in _KINDS)
    return paging.cursor_of(started, *(key for kind, column in _KINDS.items()
                                       for key in positions.get(kind, (_UNUSED[column], 1))))


def _task_positions(cursor: str | None) -> dict[str, tuple]:
    """The positions _task_cursor wrote, for the kinds that have started."""
    if not cursor:
        return {}
    started, *keys = paging.read_cursor(cursor, str, *(key for column in _KINDS.values() for key in (column, int)))
    if len(started) != len(_KINDS) or set(started) - {"0", "1"}:
        raise ValidationFailed({"cursor": str(paging.NOT_A_CURSOR)})
    return {kind: tuple(keys[2 * i:2 * i + 2]) for i, kind in enumerate(_KINDS) if started[i] == "1"}


def _task_order(item: TaskItem) -> tuple:
    """My tasks' order: overdue first, then by due date (the kind and the row settle ties)."""
    return (not item.overdue, item.due_at, item.kind, item.row_id)


def _task_sources(user, now: datetime) -> dict[str, tuple]:
    """Per kind of task, the user's (select, due column, id column, item of a row), each select
    read in its own order through an index, a page at a time: a district holds thousands of new
    complaints, an agency thousands of referrals to answer."""

    stage_label = {s.code: str(s.label) for s in STAGES}
    sources: dict[str, tuple] = {}
    # What the user may open, as their lists and boxes have it (access.scope_cases, scope_referrals).
    deadlines = None
    if user.role == "social_worker":
        deadlines = scope_cases(user, assigned_to_me=True).where(Case.status == "open", Case.due_at.is_not(None))
    elif user.role == "coordinator":  # new complaints to triage
        deadlines = scope_cases(user).where(Case.status == "open", Case.stage == "report", Case.due_at.is_not(None))
    if deadlines is not None:
        # The page lists each case's number, stage and deadline: nothing a case loads with it.
        sources["stage_deadline"] = (deadlines.options(lazyload("*")), Case.due_at, Case.id, lambda case: TaskItem(
            "stage_deadline", case.id, _("%(number)s: %(stage)s", number=case.number, stage=stage_label[case.stage]),
            case.due_at, case.overdue(now), ("cases.show", {"case_id": case.id}), (case.due_at, case.id)))

    if deadlines is not None:  # the juvenile-justice clocks of the same cases (any stage for a coordinator)
        cases = (scope_cases(user, assigned_to_me=True) if user.role == "social_worker" else scope_cases(user))
        clock_label = {clock: str(label) for clock, label in CLOCK_LABELS.items()}
        sources["juvenile_clock"] = (
            select(JuvenileClockRun).where(JuvenileClockRun.stopped_at.is_(None), JuvenileClockRun.case_id.in_(
                cases.with_only_columns(Case.id).order_by(None))),
            JuvenileClockRun.due_at, JuvenileClockRun.id, lambda run: TaskItem(
                "juvenile_clock", run.case_id, _("%(number)s: %(stage)s", number=run.case.number,
                                                 stage=clock_label[run.clock]),
                run.due_at, run.overdue(now), ("cases.show", {"case_id": run.case_id, "_anchor": "juvenile"}),
                (run.due_at, run.id)))

    def action(task):
        due = datetime.combine(task.due_date, datetime.max.time()).replace(tzinfo=now.tzinfo)
        return TaskItem("conference_action", task.case_id, task.description, due, due < now,
                        ("conferences.show", {"conference_id": task.conference_id}), (task.due_date, task.id))

    sources["conference_action"] = (select(Task).where(Task.status == "open", or_(
        Task.owner_user_id == user.id,
        (Task.owner_organisation_id == user.organisation_id) if user.organisation_id else False)),
        Task.due_date, Task.id, action)
    if user.organisation_id:
        sources["referral_answer"] = (
            scope_referrals(user, "inbox").where(Referral.status == "sent"),
            Referral.respond_by, Referral.id, lambda referral: TaskItem(
                "referral_answer", referral.case_id, _("Answer referral %(reference)s", reference=referral.reference),
                referral.respond_by, referral.overdue(now), ("referrals.show", {"referral_id": referral.id}),
                (referral.respond_by, referral.id)))
    if user.role == "coordinator":  # requests of others: one's own request is decided by another
        sources["approval"] = (
            approvals_query(user).where(Approval.requested_by_id != user.id), Approval.requested_at, Approval.id,
            lambda approval: TaskItem("approval", approval.case_id,
                                      _("Decide: %(step)s", step=transition_label(approval.transition)),
                                      approval.requested_at, False, ("cases.show", {"case_id": approval.case_id}),
                                      (approval.requested_at, approval.id)))
    if user.role == "village_worker":  # outreach rows of the extract in use given to them, oldest first
        from casemgmt.population.models import OutreachItem, PopulationCurrent
        from casemgmt.population.rules import rule

        in_use = select(PopulationCurrent.import_id).where(
            PopulationCurrent.district_code == ".".join((user.area_code or "").split(".")[:2]))
        sources["outreach"] = (
            select(OutreachItem).where(OutreachItem.assigned_user_id == user.id,
                                       OutreachItem.status.in_(("open", "in_progress")),
                                       OutreachItem.updated_at.is_not(None), OutreachItem.import_id.in_(in_use)),
            OutreachItem.updated_at, OutreachItem.id,
            lambda item: TaskItem("outreach", item.case_id, str(rule(item.rule).label), item.updated_at, False,
                                  ("population.outreach_row", {"item_id": item.id}), (item.updated_at, item.id)))
    return sources


def my_tasks(user, now: datetime | None = None, *, limit: int | None = None,
             cursor: str | None = None) -> tuple[list[TaskItem], str | None]:
    """A page of everything waiting on a user, overdue first, then by due date, and the cursor
    of the next page. The cursor holds where each kind of task stopped; each kind is read from
    there in its own order, at most a page of it, and the page is the first of them all."""
    now = now or utcnow()
    limit = paging.page_size(limit or TASKS_PAGE)
    resume = _task_positions(cursor)
    found: list[TaskItem] = []
    for kind, (query, due, row_id, item) in _task_sources(user, now).items():
        if kind in resume:
            query = query.where(*paging.after(due, row_id, *resume[kind]))
        found += [item(row) for row in db.session.scalars(query.order_by(due, row_id).limit(limit + 1))]
    found.sort(key=_task_order)
    page = found[:limit]
    if len(found) <= limit:
        return page, None
    for task in page:  # each kind resumes after the last of it on this page
        resume[task.kind] = task.position
    return page, _task_cursor(resume)


def count_tasks(user, now: datetime | None = None) -> int:
    """How many tasks wait on the user in all (my tasks lists them a page at a time)."""
    now = now or utcnow()
    district = scope_district(user)
    total = 0
    for kind, (query, _due, _row_id, _item) in _task_sources(user, now).items():
        def count(query=query) -> int:
            return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0

        # A coordinator's new complaints are the whole district's: kept a minute at most (kept_counts).
        total += kept_counts.kept(district, "triage_due", now, count) if kind == "stage_deadline" and district \
            else count()
    return total
