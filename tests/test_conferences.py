"""Case conferences: scheduling, attendance, decisions that become tasks, approvals, closing, minutes."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader

from casemgmt.home import tasks as my
from casemgmt.conferences import services
from casemgmt.conferences.models import Task
from casemgmt.errors import Forbidden, ValidationFailed
from casemgmt.extensions import db
from casemgmt.workflow import services as workflow
from tests.factories import OrganisationFactory, UserFactory, bearer_for, make_case
from tests.test_api import assert_error

WHEN = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)


@pytest.fixture
def maros(users):
    org = OrganisationFactory(name="PKSAI Kabupaten Maros", kind="pksai", area_code="73.09")
    return UserFactory(username="koordinator.maros", role="coordinator", organisation=org)


def accepted(users, name="Nurul Aisyah", risk="high", **child):
    case = make_case(users["village_worker"], name=name, **child)
    workflow.apply_transition(case, "accept", users["coordinator"],
                              {"risk_level": risk, "assigned_worker_id": users["social_worker"].id})
    return case


def schedule(users, cases, orgs=()):
    return services.schedule(users["coordinator"], title="Konferensi kasus Desember", scheduled_at=WHEN,
                             area_code="73.06", location="Kantor PKSAI Gowa", case_ids=[c.id for c in cases],
                             organisation_ids=[o.id for o in orgs])


def test_only_the_districts_coordinator_schedules_and_only_district_cases(users, maros):
    gowa_case = accepted(users)
    maros_case = make_case(users["village_worker"], name="Andi", area_code="73.09.01.2006")
    with pytest.raises(Forbidden):
        services.schedule(maros, title="x", scheduled_at=WHEN, area_code="73.06", location="", case_ids=[gowa_case.id],
                          organisation_ids=[])
    with pytest.raises(Forbidden):
        services.schedule(users["social_worker"], title="x", scheduled_at=WHEN, area_code="73.06", location="",
                          case_ids=[], organisation_ids=[])
    with pytest.raises(ValidationFailed) as exc:
        schedule(users, [gowa_case, maros_case])
    assert maros_case.number in exc.value.errors["case_ids"][0]
    conf = schedule(users, [gowa_case])
    assert [row.case_id for row in conf.agenda] == [gowa_case.id] and conf.status == "scheduled"


def test_suggested_cases(users):
    high = accepted(users, "Anak Risiko Tinggi", risk="high")
    low = accepted(users, "Anak Risiko Rendah", risk="low")
    suggestions = {s.case.id: s.reasons for s in services.suggest_cases(users["coordinator"])}
    assert high.id in suggestions and low.id not in suggestions
    late = services.suggest_cases(users["coordinator"], now=low.due_at + timedelta(days=1))
    assert low.id in {s.case.id for s in late}
    # Most pressing first, at most `limit`: high risk before a case that is only overdue.
    first = services.suggest_cases(users["coordinator"], now=low.due_at + timedelta(days=1), limit=1)
    assert [s.case.id for s in first] == [high.id] and "risiko tinggi" in first[0].reasons[0]


def test_suggestions_come_most_pressing_first_in_every_combination(users):
    """Every mix of high risk, overdue, waiting for an approval and not reviewed, in the order a
    coordinator reads them (high risk, overdue, waiting, then the longest waiting), for every
    limit: the groups read one after another give what sorting the whole district by its flags
    gave. A case with none of the four, and a closed one, are never suggested."""
    from itertools import product

    from casemgmt.cases.models import Case
    from casemgmt.workflow.models import Approval

    now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    cases = []
    for number, (high, overdue, waiting, old) in enumerate(product((True, False), repeat=4)):
        for copy in range(2):
            case = accepted(users, f"Anak Campur {number} {copy}", risk="high" if high else "low")
            case.due_at = now + (timedelta(days=-1) if overdue else timedelta(days=3))
            if old:  # registered long before the review cut-off; reviewed never
                case.created_at = now - timedelta(days=400 + 10 * number + copy)
            else:
                case.created_at = now - timedelta(days=5, minutes=10 * number + copy)
            if waiting:
                db.session.add(Approval(case_id=case.id, transition="close", requested_by_id=users["social_worker"].id))
            cases.append((case, high, overdue, waiting, old))
    closed = accepted(users, "Anak Tutup", risk="high")
    closed.status, closed.due_at = "closed", now - timedelta(days=1)
    db.session.commit()
    expected = [case.id for case, *_ in sorted(
        (row for row in cases if any(row[1:])), key=lambda row: (not row[1], not row[2], not row[3],
                                                                 row[0].created_at, row[0].id))]
    reasons = {case.id: [label for label, flag in zip(
        ("risiko tinggi", "lewat tenggat", "menunggu persetujuan", "belum ditinjau selama tiga bulan"), flags) if flag]
        for case, *flags in cases}
    for limit in range(1, len(expected) + 2):
        got = services.suggest_cases(users["coordinator"], now=now, limit=limit)
        assert [s.case.id for s in got] == expected[:limit], limit
        assert all(s.reasons == reasons[s.case.id] for s in got), limit
    assert len(expected) == 30 and db.session.get(Case, closed.id).status == "closed"
    # Each group is read oldest first through an index, never the district sorted by its flags
    # (every open case of it read: 650 ms on SQLite at a million cases).
    from tests.sql import sent

    with sent() as statements:
        services.suggest_cases(users["coordinator"], now=now, limit=3)
    reads = [statement for statement, _ in statements if "FROM case_record" in statement]
    assert reads and not [statement for statement in reads if "ORDER BY CASE" in statement], reads


def test_a_case_changed_between_two_groups_reads_is_suggested_once(users):
    """Each group of suggestions is its own read: a case whose deadline someone moves after the
    first group listed it (high risk and overdue, then high risk on time) is not listed again."""
    from sqlalchemy import event, update

    from casemgmt.cases.models import Case

    now = datetime(2027, 6, 1, tzinfo=timezone.utc)
    case = accepted(users, "Anak Tenggat Bergeser", risk="high")
    case.due_at = now - timedelta(days=1)
    db.session.commit()
    reads, case_id = [], case.id

    def move_the_deadline(conn, cursor, statement, parameters, context, executemany):
        if "FROM case_record" in statement and "case_record.risk_level = " in statement:
            reads.append(statement)
        if len(reads) == 2 and "moved" not in reads:  # the first group read, the deadline moves
            reads.append("moved")
            with db.engine.connect() as other:
                other.execute(update(Case).where(Case.id == case_id).values(due_at=now + timedelta(days=9)))
                other.commit()

    event.listen(db.engine, "before_cursor_execute", move_the_deadline)
    try:
        got = [s.case.id for s in services.suggest_cases(users["coordinator"], now=now)]
    finally:
        event.remove(db.engine, "before_cursor_execute", move_the_deadline)
    assert "moved" in reads and got == [case_id]


def test_review_page_shows_the_longest_waiting_and_says_how_many(make_web, users, monkeypatch):
    from casemgmt.conferences import views

    cases = [accepted(users, f"Anak Tinjau {word}") for word in ("Satu", "Dua", "Tiga")]
    for days, case in zip((200, 250, 300), cases):  # opened long enough ago to be due for review; the
        case.created_at = case.created_at - timedelta(days=days)  # longest waiting is the newest id
    db.session.commit()
    monkeypatch.setattr(views, "REVIEW_PAGE", 2)
    web = make_web()
    web.login("koordinator")
    page = web.get("/conferences/review").get_data(as_text=True)
    assert cases[2].number in page and cases[1].number in page and cases[0].number not in page
    assert "2 yang paling lama menunggu dari 3" in page


def test_attendance_totals_by_sex(users):
    conf = schedule(users, [accepted(users)])
    services.record_attendance(conf, users["coordinator"], [
        {"name": "Andi Rahmawati", "sex": "F", "organisation_id": users["coordinator"].organisation_id},
        {"name": "Muhammad Arif", "sex": "M", "organisation_id": None},
        {"name": "Hasanuddin", "sex": "M", "organisation_id": users["agency_officer"].organisation_id},
        {"name": "", "sex": None}])
    assert services.totals_by_sex(conf) == {"F": 1, "M": 2, "total": 3}
    with pytest.raises(ValidationFailed):
        services.record_attendance(conf, users["coordinator"], [{"name": "X", "sex": "Q"}])


def test_decisions_create_tasks_for_the_right_people(users):
    case = accepted(users)
    dukcapil = users["agency_officer"].organisation
    conf = schedule(users, [case], [dukcapil])
    decision = services.add_decision(conf, users["coordinator"], case_id=case.id, summary="Percepat akta kelahiran.",
                                     actions=[{"description": "Terbitkan akta kelahiran", "owner_organisation_id":
                                               dukcapil.id, "due_date": date.today() + timedelta(days=14)},
                                              {"description": "Kunjungan rumah", "owner_organisation_id":
                                               users["coordinator"].organisation_id,
                                               "owner_user_id": users["social_worker"].id,
                                               "due_date": date.today() - timedelta(days=1)}])
    assert len(decision.tasks) == 2
    officer_tasks, _more = my.my_tasks(users["agency_officer"])
    assert [t.description for t in officer_tasks if t.kind == "conference_action"] == ["Terbitkan akta kelahiran"]
    worker_tasks, _more = my.my_tasks(users["social_worker"])
    visit = next(t for t in worker_tasks if t.description == "Kunjungan rumah")
    assert visit.overdue and worker_tasks[0].overdue  # overdue first
    with pytest.raises(ValidationFailed):
        services.add_decision(conf, users["coordinator"], case_id=case.id, summary="x", actions=[
            {"description": "Tanpa pemilik", "owner_organisation_id": None, "due_date": date.today()}])
    other = make_case(users["village_worker"], name="Bukan Agenda")
    with pytest.raises(ValidationFailed):
        services.add_decision(conf, users["coordinator"], case_id=other.id, summary="x", actions=[])


def test_my_tasks_page_through_every_kind_in_one_order(users, api, web, monkeypatch):
    """A page of my tasks is the first of every kind merged; each kind resumes where the last page
    left it, so the pages together are the whole list, in its order: overdue first, then by due
    date. The API pages the same way."""
    from casemgmt.dbtypes import utcnow
    from tests.factories import api_pages

    now = utcnow()
    coordinator, worker = users["coordinator"], users["social_worker"]
    waiting = [make_case(users["village_worker"], name=name) for name in ("Andi Baso", "Nurul Aisyah", "Sitti Rahma")]
    for hours, case in zip((-5, 30, -1), waiting):  # two of them overdue
        case.due_at = now + timedelta(hours=hours)
    held = accepted(users, "Baso Daeng")
    workflow.apply_transition(held, "terminate", worker, {"reason": "moved_away", "summary": "Pindah."})
    conf = schedule(users, [held])
    services.add_decision(conf, coordinator, case_id=held.id, summary="Rencana.", actions=[
        {"description": "Rapat keluarga", "owner_organisation_id": coordinator.organisation_id,
         "due_date": (now - timedelta(days=2)).date()},
        {"description": "Kunjungan rumah", "owner_organisation_id": coordinator.organisation_id,
         "due_date": (now + timedelta(days=3)).date()}])
    db.session.commit()
    whole, more = my.my_tasks(coordinator, now, limit=100)
    assert more is None and my.count_tasks(coordinator, now) == len(whole) == 6
    assert [t.kind for t in whole].count("stage_deadline") == 3 and [t.kind for t in whole].count("approval") == 1
    assert [t.overdue for t in whole] == [True, True, True, False, False, False]  # overdue first
    assert whole[0].description == "Rapat keluarga"  # the longest overdue
    for size in (1, 2, 4):
        pages, cursor = [], None
        while True:
            page, cursor = my.my_tasks(coordinator, now, limit=size, cursor=cursor)
            assert 0 < len(page) <= size
            pages += [(t.kind, t.row_id) for t in page]
            if cursor is None:
                break
        assert pages == [(t.kind, t.row_id) for t in whole]
    with pytest.raises(ValidationFailed):
        my.my_tasks(coordinator, now, cursor="rusak")
    paged = api_pages(lambda url: api("get", url, "koordinator"), "/api/v1/tasks?limit=2",
                      item=lambda t: (t["kind"], t["description"]))
    assert [len(p) for p in paged] == [2, 2, 2]
    assert sum(paged, []) == [(t.kind, t.description) for t in whole]
    assert_error(api("get", "/api/v1/tasks?cursor=rusak", "koordinator"), 422, "validation_error")
    monkeypatch.setattr(my, "TASKS_PAGE", 4)
    web.login("koordinator")
    page = web.get("/tasks").get_data(as_text=True)
    assert "(6)" in page and "Rapat keluarga" in page and "Kunjungan rumah" not in page
    link = re.search(r'href="(/tasks\?cursor=[^"]+)"', page).group(1)
    page = web.get(link).get_data(as_text=True)
    assert "Kunjungan rumah" in page and "Rapat keluarga" not in page
    page = web.get("/tasks?cursor=rusak").get_data(as_text=True)
    assert "Rapat keluarga" in page and "Tautan halaman ini tidak valid" in page


def test_my_tasks_pages_end_whatever_the_due_dates(users):
    """The cursor tells which kinds of task have started: no due date and id (here the first
    action, due on 1 January 1970) is mistaken for "not started", which sent paging round for
    ever."""
    case = accepted(users)
    conf = schedule(users, [case])
    services.add_decision(conf, users["coordinator"], case_id=case.id, summary="Rencana.", actions=[
        {"description": f"Tindakan {day}", "owner_organisation_id": users["coordinator"].organisation_id,
         "due_date": date(1970, 1, day)} for day in (1, 2, 3)])
    whole, _more = my.my_tasks(users["coordinator"], limit=100)
    pages, cursor = [], None
    for _ in range(len(whole) + 1):
        page, cursor = my.my_tasks(users["coordinator"], limit=1, cursor=cursor)
        pages += [t.description for t in page]
        if cursor is None:
            break
    assert cursor is None and pages == [t.description for t in whole]
    assert pages[:3] == ["Tindakan 1", "Tindakan 2", "Tindakan 3"]


def test_my_tasks_hold_only_referrals_their_reader_may_open(users, maros, web):
    """A referral to the PKSAI about another district's case is not a task of the PKSAI's
    coordinator or workers, who get 404 for it (access.scope_referrals, as their inbox)."""
    from casemgmt.referrals import services as referrals

    maros_worker = UserFactory(username="peksos.maros", role="social_worker", organisation=maros.organisation,
                               area_code="73.09")
    case = make_case(users["village_worker"], name="Andi Maros", area_code="73.09.01.2006")
    workflow.apply_transition(case, "accept", maros, {"risk_level": "high", "assigned_worker_id": maros_worker.id})
    referral = referrals.make_referral(case, maros_worker, to_organisation_id=users["coordinator"].organisation_id,
                                       service="case_management", reason="Pindah ke Gowa.",
                                       consent={"given_by": "caregiver", "recorded_on": date.today()})
    for name in ("coordinator", "social_worker"):
        tasks, _more = my.my_tasks(users[name])
        assert referral.id not in [t.row_id for t in tasks if t.kind == "referral_answer"], name
        assert my.count_tasks(users[name]) == len(tasks)
    web.login("koordinator")
    assert web.get(f"/referrals/{referral.id}").status_code == 404
    assert referral.reference not in web.get("/tasks").get_data(as_text=True)


def test_a_pending_approval_is_decided_in_the_conference(users):
    case = accepted(users)
    worker = users["social_worker"]
    outcome = workflow.apply_transition(case, "terminate", worker, {"reason": "moved_away", "summary": "Pindah."})
    conf = schedule(users, [case])
    services.add_decision(conf, users["coordinator"], case_id=case.id, summary="Terminasi disetujui.", actions=[],
                          approve_approval_id=outcome.approval.id)
    assert case.stage == "termination" and case.status == "closed"
    assert outcome.approval.status == "approved" and outcome.approval.conference_id == conf.id


def test_closing_locks_the_record(make_web, users):
    case = accepted(users)
    conf = schedule(users, [case])
    services.close(conf, users["coordinator"])
    with pytest.raises(services.ConferenceLocked):
        services.record_attendance(conf, users["coordinator"], [{"name": "Telat", "sex": "F"}])
    with pytest.raises(services.ConferenceLocked):
        services.add_decision(conf, users["coordinator"], case_id=case.id, summary="x", actions=[])
    web = make_web()
    web.login("koordinator")
    response = web.post(f"/conferences/{conf.id}/attendance", {"attendees-0-name": "Telat", "attendees-0-sex": "F"})
    assert response.status_code == 303
    page = web.get(f"/conferences/{conf.id}").get_data(as_text=True)
    assert "Telat" not in page and "minutes.pdf" in page


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_minutes_show_totals_decisions_and_no_full_name(make_web, users):
    case = accepted(users, "Nurul Aisyah")
    conf = schedule(users, [case])
    services.record_attendance(conf, users["coordinator"], [{"name": "Andi Rahmawati", "sex": "F"},
                                                            {"name": "Muhammad Arif", "sex": "M"},
                                                            {"name": "Sitti Aminah", "sex": "F"}])
    services.add_decision(conf, users["coordinator"], case_id=case.id, summary="Anak kembali sekolah Januari.",
                          actions=[{"description": "Daftar ulang sekolah", "owner_organisation_id":
                                    users["coordinator"].organisation_id, "due_date": date(2027, 1, 5)}])
    services.close(conf, users["coordinator"])
    web = make_web()
    web.login("koordinator")
    response = web.get(f"/conferences/{conf.id}/minutes.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert "Perempuan: 2" in text and "Laki-laki: 1" in text and "Jumlah: 3" in text
    assert "Anak kembali sekolah Januari." in text and "Daftar ulang sekolah" in text
    assert case.number in text and "N. A." in text
    assert "Nurul Aisyah" not in text and "Nurul" not in text


def test_invited_organisations_see_numbers_and_initials(make_web, users):
    case = accepted(users)
    conf = schedule(users, [case], [users["agency_officer"].organisation])
    officer = make_web()
    officer.login("dukcapil")
    page = officer.get(f"/conferences/{conf.id}").get_data(as_text=True)
    assert case.number in page and "N. A." in page and "Nurul Aisyah" not in page
    outsider = make_web()
    outsider.login("desa")
    assert outsider.get(f"/conferences/{conf.id}").status_code == 404


def test_quarterly_review_list(users):
    case = accepted(users)
    other = accepted(users, "Andi Baso")
    later = case.created_at + timedelta(days=100)
    assert [c.id for c in services.not_reviewed(users["coordinator"], later)] == [case.id, other.id]
    assert services.count_not_reviewed(users["coordinator"], later) == 2
    conf = schedule(users, [case])
    services.close(conf, users["coordinator"], now=case.created_at + timedelta(days=95))
    # The count is the list's: those due for review less those discussed since the cut-off.
    assert [c.id for c in services.not_reviewed(users["coordinator"], later)] == [other.id]
    assert services.count_not_reviewed(users["coordinator"], later) == 1
    assert services.count_not_reviewed(users["coordinator"], later + timedelta(days=100)) == 2  # discussed too long ago
    # The count compares the time of registration as SQLite's planner is steered to (a text in
    # the index), the list as the column: either side of the cut-off, to the microsecond, they agree.
    cutoff = services.review_due_before(later, "73.06")
    for shift in (timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1)):
        other.created_at = cutoff + shift
        db.session.commit()
        listed = [c.id for c in services.not_reviewed(users["coordinator"], later)]
        assert services.count_not_reviewed(users["coordinator"], later) == len(listed) == (1 if shift < timedelta(0) else 0)


def test_task_is_done_by_its_owner(make_web, users):
    case = accepted(users)
    conf = schedule(users, [case])
    services.add_decision(conf, users["coordinator"], case_id=case.id, summary="x", actions=[
        {"description": "Terbitkan akta", "owner_organisation_id": users["agency_officer"].organisation_id,
         "due_date": date.today()}])
    task = db.session.query(Task).one()
    outsider = make_web()
    outsider.login("desa")
    assert outsider.post(f"/tasks/{task.id}/done").status_code == 404
    officer = make_web()
    officer.login("dukcapil")
    assert "Terbitkan akta" in officer.get("/tasks").get_data(as_text=True)
    assert officer.post(f"/tasks/{task.id}/done").status_code == 302
    db.session.expire_all()
    assert db.session.get(Task, task.id).status == "done"


def test_conferences_through_the_api(app, users):
    client = app.test_client()

    coordinator, worker = bearer_for(client, "koordinator"), bearer_for(client, "peksos")
    case, other = accepted(users), accepted(users, "Rahmat Hidayat")
    body = {"title": "Konferensi", "scheduled_at": "2026-12-01T10:00:00+08:00", "area_code": "73.06",
            "location": "PKSAI", "case_ids": [case.id, other.id],
            "organisation_ids": [users["agency_officer"].organisation_id]}
    assert_error(client.post("/api/v1/conferences", json=body, headers=worker), 403, "forbidden")
    response = client.post("/api/v1/conferences", json=body, headers=coordinator)
    assert response.status_code == 201 and response.get_json()["status"] == "scheduled"
    conf_id = response.get_json()["id"]
    att = client.post(f"/api/v1/conferences/{conf_id}/attendance", headers=coordinator, json={"attendees": [
        {"name": "A", "sex": "F"}, {"name": "B", "sex": "M"}]})
    assert att.get_json()["attendance_totals"] == {"female": 1, "male": 1, "total": 2}
    decision = client.post(f"/api/v1/conferences/{conf_id}/decisions", headers=coordinator, json={
        "case_id": case.id, "summary": "Lanjutkan.", "actions": [
            {"description": "Urus akta", "owner_organisation_id": users["agency_officer"].organisation_id,
             "due_date": "2027-01-10"}]})
    assert decision.status_code == 201 and len(decision.get_json()["tasks"]) == 1
    tasks = client.get("/api/v1/tasks?mine=true", headers=bearer_for(client, "dukcapil")).get_json()["items"]
    assert [t["kind"] for t in tasks] == ["conference_action"] and tasks[0]["case_id"] == case.id
    assert client.post(f"/api/v1/conferences/{conf_id}/close", headers=coordinator).get_json()["status"] == "closed"
    assert_error(client.post(f"/api/v1/conferences/{conf_id}/attendance", headers=coordinator,
                             json={"attendees": []}), 409, "conference_closed")
    assert_error(client.post(f"/api/v1/conferences/{conf_id}/decisions", headers=coordinator,
                             json={"case_id": case.id, "summary": "x"}), 409, "conference_closed")
    pdf = client.get(f"/api/v1/conferences/{conf_id}/minutes.pdf", headers=coordinator)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    assert_error(client.get(f"/api/v1/conferences/{conf_id}/minutes.pdf", headers=bearer_for(client, "desa")), 404, "not_found")


def test_an_action_owned_by_a_person_from_the_page(make_web, users):
    case = accepted(users)
    conf = schedule(users, [case])
    web = make_web()
    web.login("koordinator")
    page = web.get(f"/conferences/{conf.id}").get_data(as_text=True)
    assert users["social_worker"].full_name in page  # offered as an owner
    response = web.post(f"/conferences/{conf.id}/decisions/{case.id}", {
        f"d{case.id}-case_id": str(case.id), f"d{case.id}-summary": "Kunjungi keluarga.",
        f"d{case.id}-actions-0-description": "Kunjungan rumah",
        f"d{case.id}-actions-0-owner_organisation_id": str(users["coordinator"].organisation_id),
        f"d{case.id}-actions-0-owner_user_id": str(users["social_worker"].id),
        f"d{case.id}-actions-0-due_date": date.today().isoformat()})
    assert response.status_code == 302
    task = db.session.query(Task).one()
    assert task.owner_user_id == users["social_worker"].id
    assert "Kunjungan rumah" in [t.description for t in my.my_tasks(users["social_worker"])[0]]


def test_a_refused_decision_or_attendance_comes_back_with_what_was_typed(make_web, users):
    case = accepted(users)
    conf = schedule(users, [case])
    web = make_web()
    web.login("koordinator")
    response = web.post(f"/conferences/{conf.id}/decisions/{case.id}", {
        f"d{case.id}-case_id": str(case.id), f"d{case.id}-summary": "Keluarga setuju mengurus akta.",
        f"d{case.id}-actions-0-description": "Urus akta kelahiran"})  # no owner, no due date
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Keluarga setuju mengurus akta." in page and 'value="Urus akta kelahiran"' in page
    assert f'id="d{case.id}-actions-0-owner_organisation_id-error"' in page
    assert f'id="d{case.id}-actions-0-due_date-error"' in page
    assert page.count("<details open>") == 1
    response = web.post(f"/conferences/{conf.id}/attendance", {
        "attendees-0-name": "Ibu Hasnah", "attendees-0-sex": "", "attendees-1-name": "", "attendees-1-sex": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Ibu Hasnah"' in page and 'id="attendees-0-sex-error"' in page and "<details open>" in page
    assert db.session.query(Task).count() == 0 and conf.attendees == []
    # A decision on a case that is not on the agenda: not found, not a 500.
    other = accepted(users, "Anak Lain")
    assert web.post(f"/conferences/{conf.id}/decisions/{other.id}", {
        f"d{other.id}-case_id": str(other.id), f"d{other.id}-summary": "Bukan agenda."}).status_code == 404
    assert db.session.query(Task).count() == 0
