"""The cases API of the contract: create, duplicates, idempotency, list, read, patch, history, notes."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from casemgmt.cases.models import Case
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from tests.factories import bearer_for, make_case
from tests.test_api import assert_error


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(client, users):
    return lambda username: bearer_for(client, username)


def body(**overrides):
    data = {"channel": "phone", "received_at": utcnow().replace(microsecond=0).isoformat(),
            "reporter": {"name": "Pak Amir", "phone": "0812", "relationship": "guru", "anonymous": False},
            "child": {"name": "Andi Baso", "sex": "M", "age_years": 11, "area_code": "73.06.01.2006",
                      "address": "Barembeng"},
            "concerns": ["out_of_school"], "description": "Tidak sekolah sejak Juli.", "urgent": True}
    data.update(overrides)
    return data


def count_cases():
    return db.session.scalar(select(func.count(Case.id)))


def test_create_answers_the_case_in_report_stage(client, token):
    response = client.post("/api/v1/cases", json=body(), headers=token("desa"))
    assert response.status_code == 201, response.get_data(as_text=True)
    case = response.get_json()
    assert case["stage"] == "report" and case["status"] == "open" and case["risk_level"] is None
    assert case["number"].startswith("7306-") and case["urgent"] is True and case["overdue"] is False
    assert case["child"]["name"] == "Andi Baso" and case["child"]["sex"] == "M" and case["child"]["age_years"] == 11
    assert case["reporter"]["name"] == "Pak Amir"
    assert case["concerns"] == ["out_of_school"] and case["area_code"] == "73.06.01.2006"
    assert case["assigned_worker"] is None and case["version"] == 1
    assert case["due_at"].endswith("+00:00") and case["possible_duplicates"] == []


def test_create_reports_possible_duplicates(client, token, users):
    existing = make_case(users["village_worker"], name="Andi Baso", sex="M", birth_date=None, age_years=11)
    case = client.post("/api/v1/cases", json=body(child={**body()["child"], "name": "ANDI  BASSO"}),
                       headers=token("desa")).get_json()
    assert case["possible_duplicates"] == [{"id": existing.id, "number": existing.number, "reason": "similar_name"}]


@pytest.mark.parametrize("child_change, field", [
    ({"nik": "7306011505120000"}, "child.nik"),          # serial 0000
    ({"nik": "12345"}, "child.nik"),
    ({"area_code": "73.99.99.9999"}, "child.area_code"),
])
def test_create_refuses_invalid_child_with_422(client, token, child_change, field):
    response = client.post("/api/v1/cases", json=body(child={**body()["child"], **child_change}), headers=token("desa"))
    error = assert_error(response, 422, "validation_error")
    assert field in error["details"]["fields"]
    assert count_cases() == 0


def test_an_old_urgent_complaint_is_overdue_at_once(client, token):
    case = client.post("/api/v1/cases", json=body(received_at="2026-01-05T09:30:00+08:00"),
                       headers=token("desa")).get_json()
    assert case["overdue"] is True and case["due_at"] == "2026-01-06T01:30:00+00:00"


def test_create_refuses_unknown_concern_and_naive_time(client, token):
    error = assert_error(client.post("/api/v1/cases", json=body(concerns=["flying"]), headers=token("desa")),
                         422, "validation_error")
    assert "concerns" in error["details"]["fields"]
    error = assert_error(client.post("/api/v1/cases", json=body(received_at="2026-11-20T09:30:00"),
                                     headers=token("desa")), 422, "validation_error")
    assert "received_at" in error["details"]["fields"]


def test_roles_that_do_not_register_get_403(client, token):
    for username in ("dukcapil", "analis", "admin"):
        assert_error(client.post("/api/v1/cases", json=body(), headers=token(username)), 403, "forbidden")
    assert count_cases() == 0


def test_idempotent_retry_returns_the_first_result(client, token):
    headers = {**token("desa"), "Idempotency-Key": "hp-desa-0001"}
    first = client.post("/api/v1/cases", json=body(), headers=headers)
    again = client.post("/api/v1/cases", json=body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and again.headers.get("Idempotent-Replayed") == "true"
    assert count_cases() == 1
    other = client.post("/api/v1/cases", json=body(), headers={**headers, "Idempotency-Key": "hp-desa-0002"})
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]
    assert count_cases() == 2


def test_failed_attempt_frees_its_key(client, token):
    headers = {**token("desa"), "Idempotency-Key": "hp-desa-0003"}
    assert client.post("/api/v1/cases", json=body(concerns=["flying"]), headers=headers).status_code == 422
    assert client.post("/api/v1/cases", json=body(), headers=headers).status_code == 201


@pytest.mark.parametrize("crash_at", ["answer", "commit"])
def test_a_crash_before_the_end_of_the_request_leaves_one_case_after_the_retry(client, token, users, monkeypatch,
                                                                               crash_at):
    """The case and the stored answer of its Idempotency-Key are one transaction: an attempt that
    dies after writing both but before the request ends (its worker killed while answering, or
    the commit failing) leaves neither, and the phone's retry creates the case once."""
    from casemgmt import transactions
    from casemgmt.api import idempotency
    from casemgmt.api.models import IdempotencyRecord

    class Killed(Exception):
        pass

    def die(*_args, **_kwargs):
        raise Killed()

    headers = {**token("desa"), "Idempotency-Key": "hp-desa-crash"}
    target = (idempotency, "json_response") if crash_at == "answer" else (transactions.db.session, "commit")
    with monkeypatch.context() as patch:
        patch.setattr(*target, die)
        with pytest.raises(Killed):
            client.post("/api/v1/cases", json=body(), headers=headers)
    db.session.rollback()
    assert count_cases() == 0 and db.session.scalar(select(func.count(IdempotencyRecord.id))) == 0
    first = client.post("/api/v1/cases", json=body(), headers=headers)
    again = client.post("/api/v1/cases", json=body(), headers=headers)
    assert first.status_code == again.status_code == 201, first.get_json()
    assert again.headers.get("Idempotent-Replayed") == "true" and count_cases() == 1
    db.session.expire_all()
    assert [r.status_code for r in db.session.scalars(select(IdempotencyRecord))] == [201]


def test_two_attempts_at_once_with_one_key_make_one_case(app, client, token, users):
    """A phone that sends again while the first attempt is still running: the second waits on
    the key and answers the first's result (or, on SQLite, is told to retry), never a second case."""
    import threading

    headers = {**token("desa"), "Idempotency-Key": "hp-desa-twice"}
    answers = []

    def send():
        for _attempt in range(20):
            response = app.test_client().post("/api/v1/cases", json=body(), headers=headers)
            if response.status_code != 503:
                answers.append(response)
                return

    db.session.commit()
    threads = [threading.Thread(target=send) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [201, 201, 201]
    assert len({a.get_json()["id"] for a in answers}) == 1
    assert count_cases() == 1


def test_idempotency_keys_are_per_user_and_per_call(client, token, users):
    case = client.post("/api/v1/cases", json=body(), headers={**token("koordinator"), "Idempotency-Key": "k1"})
    assert case.status_code == 201
    # Another user may use the same key for their own request.
    assert client.post("/api/v1/cases", json=body(), headers={**token("desa"), "Idempotency-Key": "k1"}).status_code == 201
    # The same user may not reuse it for a different call.
    case_id = case.get_json()["id"]
    response = client.post(f"/api/v1/cases/{case_id}/notes", json={"text": "x"},
                           headers={**token("koordinator"), "Idempotency-Key": "k1"})
    assert_error(response, 422, "validation_error")


def test_list_filters_and_pagination(client, token, users):
    for name in ("Anak Alfa", "Anak Beta", "Anak Gamma"):
        make_case(users["village_worker"], name=name)
    headers = token("koordinator")
    page = client.get("/api/v1/cases?limit=2", headers=headers).get_json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    rest = client.get(f"/api/v1/cases?limit=2&cursor={page['next_cursor']}", headers=headers).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    numbers = [c["number"] for c in page["items"] + rest["items"]]
    assert numbers == sorted(numbers, reverse=True)
    assert len(client.get("/api/v1/cases?area_code=73.06", headers=headers).get_json()["items"]) == 3
    assert client.get("/api/v1/cases?area_code=73.09", headers=headers).get_json()["items"] == []
    assert len(client.get("/api/v1/cases?q=beta", headers=headers).get_json()["items"]) == 1
    assert_error(client.get("/api/v1/cases?stage=flying", headers=headers), 422, "validation_error")
    assert_error(client.get("/api/v1/cases?limit=500", headers=headers), 422, "validation_error")
    assert_error(client.get("/api/v1/cases?cursor=@@@", headers=headers), 422, "validation_error")


def test_get_is_404_outside_scope_and_masks_after_assignment(client, token, users):
    case = make_case(users["village_worker"])
    assert_error(client.get(f"/api/v1/cases/{case.id}", headers=token("peksos")), 404, "not_found")
    assert_error(client.get("/api/v1/cases/999999", headers=token("koordinator")), 404, "not_found")
    case.assigned_worker_id = users["social_worker"].id
    case.stage = "assessment"
    db.session.commit()
    seen = client.get(f"/api/v1/cases/{case.id}", headers=token("desa")).get_json()
    assert seen["child"]["name"] == "N. A." and "reporter" not in seen and "concerns" not in seen
    assert "nik" not in seen["child"] and "birth_date" not in seen["child"]
    full = client.get(f"/api/v1/cases/{case.id}", headers=token("peksos")).get_json()
    assert full["child"]["name"] == "Nurul Aisyah" and full["reporter"]["name"] == "Ibu Rahma"
    assert full["assigned_worker"] == {"id": users["social_worker"].id, "full_name": users["social_worker"].full_name}


def test_patch_with_version_and_conflict(client, token, users):
    case = make_case(users["village_worker"])
    headers = token("koordinator")
    response = client.patch(f"/api/v1/cases/{case.id}", json={"version": 1, "child": {"address": "Dusun Bontoa"}},
                            headers=headers)
    assert response.status_code == 200 and response.get_json()["version"] == 2
    assert response.get_json()["child"]["address"] == "Dusun Bontoa"
    stale = client.patch(f"/api/v1/cases/{case.id}", json={"version": 1, "urgent": True}, headers=headers)
    error = assert_error(stale, 409, "stale_version")
    assert error["details"]["current_version"] == 2
    assert error["details"]["changes_since"][0]["changes"]["child.address"] == ["Dusun Barembeng, RT 02", "Dusun Bontoa"]
    # Both values side by side for an offline client: the record now, and what changed since.
    assert error["details"]["changed_fields"] == ["child.address"]
    assert error["details"]["current"]["version"] == 2
    assert error["details"]["current"]["child"]["address"] == "Dusun Bontoa"
    assert error["details"]["current"]["urgent"] is False
    client.patch(f"/api/v1/cases/{case.id}", json={"version": 2, "description": "Baru.",
                                                   "reporter": {"name": "Bapak Ali"}}, headers=headers)
    error = assert_error(client.patch(f"/api/v1/cases/{case.id}", json={"version": 1, "urgent": True},
                                      headers=headers), 409, "stale_version")
    assert error["details"]["changed_fields"] == ["child.address", "description", "reporter.name"]
    assert error["details"]["current"]["version"] == 3
    assert error["details"]["current"]["reporter"]["name"] == "Bapak Ali"
    bad = client.patch(f"/api/v1/cases/{case.id}", json={"version": 3, "child": {"nik": "99"}}, headers=headers)
    assert "child.nik" in assert_error(bad, 422, "validation_error")["details"]["fields"]
    assert_error(client.patch(f"/api/v1/cases/{case.id}", json={"urgent": True}, headers=headers), 422,
                 "validation_error")


def test_patch_refused_to_whoever_may_only_look(client, token, users):
    case = make_case(users["village_worker"])
    assert_error(client.patch(f"/api/v1/cases/{case.id}", json={"version": 1, "urgent": True},
                              headers=token("desa")), 403, "forbidden")


def test_history_and_notes(client, token, users):
    case = make_case(users["village_worker"])
    headers = token("koordinator")
    response = client.post(f"/api/v1/cases/{case.id}/notes", json={"text": "Kunjungan rumah Senin."}, headers=headers)
    assert response.status_code == 201 and response.get_json()["text"] == "Kunjungan rumah Senin."
    assert_error(client.post(f"/api/v1/cases/{case.id}/notes", json={"text": ""}, headers=headers), 422,
                 "validation_error")
    items = client.get(f"/api/v1/cases/{case.id}/history", headers=headers).get_json()["items"]
    assert [i["action"] for i in items] == ["registered", "note"]
    assert items[0]["to_stage"] == "report" and items[0]["from_stage"] is None
    assert items[1]["comment"] == "Kunjungan rumah Senin." and items[1]["actor"]["id"] == users["coordinator"].id
    assert items[0]["at"] <= items[1]["at"]
    assert_error(client.get(f"/api/v1/cases/{case.id}/history", headers=token("peksos")), 404, "not_found")


def test_field_messages_are_in_the_callers_language(client, token):
    """marshmallow's messages answered in the request's language (api.messages), Indonesian by
    default, English when asked, filled in with the field's own figures; the shape kept."""
    bad = body(channel="fax", child={**body()["child"], "age_years": 40, "sex": None}, urgent="maybe",
               description="x" * 20001, received_at="2026-11-20T09:30:00", concerns=["flying"])
    fields = assert_error(client.post("/api/v1/cases", json=bad, headers=token("desa")),
                          422, "validation_error")["details"]["fields"]
    assert fields["channel"] == ["Harus salah satu dari: walk_in, phone, hotline, outreach, other."]
    assert fields["child"]["age_years"] == ["Harus antara 0 dan 17."]
    assert fields["child"]["sex"] == ["Tidak boleh kosong."]
    assert fields["urgent"] == ["Isi true atau false."]
    assert fields["received_at"] == ["Isi tanggal dan waktu beserta zona waktunya, misalnya +08:00."]
    assert fields["description"] == ["Paling banyak 20000 karakter atau butir."]
    assert fields["concerns"] == {"0": [fields["concerns"]["0"][0]]}
    assert fields["concerns"]["0"][0].startswith("Harus salah satu dari: ")
    del bad["channel"]
    english = assert_error(client.post("/api/v1/cases", json=bad, headers={**token("desa"), "Accept-Language": "en"}),
                           422, "validation_error")["details"]["fields"]
    assert english["channel"] == ["This field is required."]
    assert english["child"]["age_years"] == ["Must be from 0 to 17."]
    assert count_cases() == 0
    listed = assert_error(client.get("/api/v1/cases?limit=500", headers=token("koordinator")), 422, "validation_error")
    assert listed["details"]["fields"] == {"query": {"limit": ["Harus antara 1 dan 100."]}}
