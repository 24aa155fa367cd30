"""Log-in, lock-out, idle time-out, CSRF, forced password change, ending sessions."""
from __future__ import annotations

from datetime import timedelta

import time

import pytest

from casemgmt.accounts.models import User
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from tests.factories import PASSWORD, make_case


def reload(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def test_login_page_is_indonesian_by_default(web):
    page = web.get("/login").get_data(as_text=True)
    assert 'lang="id"' in page
    assert "Kata sandi" in page and "Masuk" in page


def test_login_page_switches_to_english_and_back(web):
    response = web.get("/lang/en?next=/login")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    page = web.get("/login").get_data(as_text=True)
    assert 'lang="en"' in page and "Password" in page and "Kata sandi" not in page
    web.get("/lang/id")
    assert "Kata sandi" in web.get("/login").get_data(as_text=True)


def test_language_switch_never_redirects_off_site(web):
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = web.get("/lang/en", query_string={"next": target})
        assert response.headers["Location"] in ("/", "http://localhost/")


def test_successful_login_goes_home_and_shows_role(web, users):
    response = web.login("koordinator")
    assert response.headers["Location"] == "/"
    page = web.get("/").get_data(as_text=True)
    assert "Koordinator PKSAI" in page
    assert "PKSAI Kabupaten Gowa" in page
    assert reload(users["coordinator"]).last_login_at is not None


def test_login_follows_local_next_only(web, users):
    response = web.post("/login?next=/directory/organisations", {"username": "admin", "password": PASSWORD})
    assert response.headers["Location"] == "/directory/organisations"
    web.logout()
    response = web.post("/login?next=https://evil.example/x", {"username": "admin", "password": PASSWORD})
    assert response.headers["Location"] == "/"


def throttles():
    from casemgmt.accounts.models import LoginThrottle

    db.session.expire_all()
    return db.session.scalars(db.select(LoginThrottle)).all()


def test_wrong_password_is_refused_with_message(web, users):
    response = web.post("/login", {"username": "koordinator", "password": "salah-sekali-123"})
    assert response.status_code == 422
    assert "Nama pengguna atau kata sandi salah" in response.get_data(as_text=True)
    assert [t.failures for t in throttles()] == [1]


def test_unknown_user_gets_the_same_message(web, users):
    response = web.post("/login", {"username": "tidakada", "password": "salah-sekali-123"})
    assert response.status_code == 422
    assert "Nama pengguna atau kata sandi salah" in response.get_data(as_text=True)


def test_five_failures_hold_the_name_back_from_this_address(web, users):
    """A minute after the fifth failure in a row, then twice as long after each further one, at
    most 15 minutes; even the right password waits."""
    for _ in range(4):
        assert web.post("/login", {"username": "peksos", "password": "salah-sekali-123"}).status_code == 422
    response = web.post("/login", {"username": "peksos", "password": "salah-sekali-123"})
    assert "Terlalu banyak" in response.get_data(as_text=True)
    [throttle] = throttles()
    assert 0.9 < (throttle.blocked_until - utcnow()).total_seconds() / 60 <= 1
    response = web.post("/login", {"username": "peksos", "password": PASSWORD})
    assert response.status_code == 422 and "Terlalu banyak" in response.get_data(as_text=True)
    waits = []
    for _ in range(6):  # each time the wait is over, one more wrong password
        throttle.blocked_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
        web.post("/login", {"username": "peksos", "password": "salah-sekali-123"})
        [throttle] = throttles()
        waits.append(round((throttle.blocked_until - utcnow()).total_seconds() / 60))
    assert waits == [2, 4, 8, 15, 15, 15]
    throttle.blocked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert web.login("peksos").status_code == 302
    assert throttles() == []  # a log-in forgets the failures


def test_success_resets_the_failure_count(web, users):
    for _ in range(3):
        web.post("/login", {"username": "peksos", "password": "salah-sekali-123"})
    assert [t.failures for t in throttles()] == [3]
    web.login("peksos")
    assert throttles() == []


def test_disabled_user_cannot_log_in(web, users):
    users["analyst"].active = False
    db.session.commit()
    response = web.post("/login", {"username": "analis", "password": PASSWORD})
    assert response.status_code == 422


def test_login_without_csrf_token_is_refused(web, users):
    response = web.post("/login", {"username": "admin", "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "kedaluwarsa" in response.get_data(as_text=True) or "formulir" in response.get_data(as_text=True).lower()
    assert reload(users["admin"]).last_login_at is None


def test_admin_form_without_csrf_token_saves_nothing(admin_web):
    response = admin_web.post("/directory/organisations/new", {
        "name": "Lembaga Tanpa Token", "kind": "ngo", "area_code": "73.06"}, csrf=False)
    assert response.status_code == 400
    from casemgmt.directory.services import find_organisation

    assert find_organisation("Lembaga Tanpa Token") is None


def test_logout_needs_post_and_ends_the_session(web, users):
    web.login("admin")
    assert web.get("/logout").status_code == 405
    assert web.logout().status_code == 302
    response = web.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_anonymous_user_is_sent_to_login(web):
    response = web.get("/admin/users")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_idle_session_times_out_after_thirty_minutes(web, users):
    web.login("koordinator")
    assert web.get("/").status_code == 200
    with web.client.session_transaction() as session:
        session["seen"] = time.time() - 29 * 60
    assert web.get("/").status_code == 200  # 29 minutes idle: still in
    with web.client.session_transaction() as session:
        session["seen"] = time.time() - 31 * 60
    response = web.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    page = web.get(response.headers["Location"]).get_data(as_text=True)
    assert "30 menit" in page


def test_activity_is_written_to_the_cookie_once_a_minute(web, users):
    """security.SEEN_STEP: pages within a minute send no cookie; the next one records the activity."""
    web.login("koordinator")
    assert web.get("/").status_code == 200
    assert "Set-Cookie" not in web.get("/").headers  # read a moment ago: nothing to write
    with web.client.session_transaction() as session:
        session["seen"] = time.time() - 61
    response = web.get("/")
    assert "Set-Cookie" in response.headers
    with web.client.session_transaction() as session:
        assert time.time() - session["seen"] < 5


def test_session_cookie_flags(web, users):
    response = web.post("/login", {"username": "admin", "password": PASSWORD})
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_disabling_a_user_ends_their_session_at_once(make_web, users):
    worker, admin = make_web(), make_web()
    worker.login("peksos")
    assert worker.get("/").status_code == 200
    admin.login("admin")
    user = users["social_worker"]
    response = admin.post(f"/admin/users/{user.id}/active", {"version": user.version})
    assert response.status_code == 302
    assert reload(user).active is False
    response = worker.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_admin_reset_forces_a_new_password_at_next_login(make_web, users):
    admin, worker = make_web(), make_web()
    admin.login("admin")
    user = users["social_worker"]
    response = admin.post(f"/admin/users/{user.id}/password",
                          {"password": "Sementara-Gowa-77", "confirm": "Sementara-Gowa-77"})
    assert response.status_code == 302
    worker.login("peksos", "Sementara-Gowa-77")
    response = worker.get("/directory/organisations")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account/password")
    response = worker.post("/account/password", {"current_password": "Sementara-Gowa-77",
                                                 "password": "Pilihan-Sendiri-88", "confirm": "Pilihan-Sendiri-88"})
    assert response.status_code == 302
    assert worker.get("/directory/organisations").status_code == 200


def test_change_password_shows_policy_errors_next_to_the_field(web, users):
    web.login("koordinator")
    response = web.post("/account/password", {"current_password": PASSWORD, "password": "pendek",
                                               "confirm": "pendek"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="password-error"' in page and 'aria-invalid="true"' in page
    assert "10" in page


# ---- sessions end on the server, for every copy of the cookie ---------------------------------

def copy_of(web):
    """Another browser holding a copy of ``web``'s session cookie, as a thief of it would."""
    other = web.app.test_client()
    other.set_cookie("casemgmt_session", web.client.get_cookie("casemgmt_session").value)
    return other


def refused(client, path="/cases"):
    response = client.get(path)
    return response.status_code == 302 and "/login" in response.headers["Location"]


def test_logging_out_ends_every_copy_of_the_cookie(make_web, users):
    web = make_web()
    web.login("koordinator")
    copies = [copy_of(web), copy_of(web)]
    assert not refused(web.client) and not any(refused(c) for c in copies)
    web.logout()
    assert all(refused(c) for c in copies) and refused(web.client)
    # Logging in again makes a new session; the old copies stay out.
    web.login("koordinator")
    assert not refused(web.client) and all(refused(c) for c in copies)


def test_changing_the_password_ends_every_other_session_and_token(app, make_web, users):
    from tests.factories import bearer_for

    web, elsewhere = make_web(), make_web()
    web.login("peksos")
    elsewhere.login("peksos")
    copy = copy_of(web)
    api = app.test_client()
    token = bearer_for(api, "peksos")
    assert api.get("/api/v1/me", headers=token).status_code == 200
    response = web.post("/account/password", {"current_password": PASSWORD, "password": "Pilihan-Sendiri-88",
                                              "confirm": "Pilihan-Sendiri-88"})
    assert response.status_code == 302
    assert not refused(web.client)  # the browser that changed it goes on, in a new session
    assert refused(copy) and refused(elsewhere.client)
    assert api.get("/api/v1/me", headers=token).status_code == 401
    assert api.get("/api/v1/me", headers=bearer_for(api, "peksos", "Pilihan-Sendiri-88")).status_code == 200


def test_deactivation_and_reset_end_every_copy_and_token(app, make_web, users):
    from tests.factories import bearer_for

    admin = make_web()
    admin.login("admin")
    api = app.test_client()
    for username, action in (("peksos", "reset"), ("koordinator", "disable")):
        web = make_web()
        web.login(username)
        copy = copy_of(web)
        token = bearer_for(api, username)
        user = reload(db.session.get(User, web_user_id(username)))
        if action == "reset":
            response = admin.post(f"/admin/users/{user.id}/password",
                                  {"password": "Sementara-Gowa-77", "confirm": "Sementara-Gowa-77"})
        else:
            response = admin.post(f"/admin/users/{user.id}/active", {"version": user.version})
        assert response.status_code == 302
        assert refused(copy) and refused(web.client), action
        assert api.get("/api/v1/me", headers=token).status_code == 401, action


def web_user_id(username):
    from casemgmt.accounts.services import find_by_username

    return find_by_username(username).id


def test_idling_past_the_time_out_ends_the_session_on_the_server(make_web, users):
    """The server's record of the last request decides, whatever the cookie says: a copy of a
    cookie that a phone left idle for 31 minutes is refused though the copy itself is fresh."""
    from sqlalchemy import update

    from casemgmt.accounts.models import UserSession

    web = make_web()
    web.login("koordinator")
    copy = copy_of(web)
    assert not refused(copy)
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=29)))
    db.session.commit()
    assert not refused(copy)  # 29 minutes: still in
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=31)))
    db.session.commit()
    response = copy.get("/cases")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "30 menit" in copy.get(response.headers["Location"]).get_data(as_text=True)
    assert refused(web.client)


def test_a_session_that_idled_out_by_its_cookie_is_ended_for_its_copies(make_web, users):
    web = make_web()
    web.login("koordinator")
    with web.client.session_transaction() as session:
        session["seen"] = time.time() - 31 * 60
    stale = copy_of(web)  # a copy taken now, with the stale "seen"
    assert refused(web.client)
    assert refused(stale)
    from casemgmt.accounts.models import UserSession

    rows = db.session.scalars(db.select(UserSession)).all()
    assert [(r.ended_reason, r.ended_at is not None) for r in rows] == [("idle", True)]


@pytest.mark.parametrize("page", ["/", "/reports/indicators", "/reports/kpis"])
def test_activity_is_recorded_on_the_server_once_a_minute(make_web, users, page):
    """Also on the pages that bring the indicators' counts up to date first (reports.tally): their
    rounds of counting stay in the request's one transaction, which keeps the activity."""
    from sqlalchemy import update

    from casemgmt.accounts.models import UserSession

    make_case(users["village_worker"])  # a change waiting to be counted in the indicators
    web = make_web()
    web.login("koordinator")
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(minutes=20)))
    db.session.commit()
    with web.client.session_transaction() as session:
        session["seen"] = time.time() - 61
    assert web.get(page).status_code == 200
    db.session.expire_all()
    row = db.session.scalars(db.select(UserSession)).one()
    assert utcnow() - row.last_seen_at < timedelta(seconds=5)


def test_sessions_unused_for_a_week_are_forgotten(make_web, users):
    from sqlalchemy import update

    from casemgmt.accounts.models import UserSession
    from casemgmt.accounts.services import purge_sessions

    old, recent = make_web(), make_web()
    old.login("koordinator")
    recent.login("peksos")
    db.session.execute(update(UserSession).where(UserSession.user_id == users["coordinator"].id)
                       .values(last_seen_at=utcnow() - timedelta(days=8)))
    db.session.commit()
    assert purge_sessions() == 1
    assert [r.user_id for r in db.session.scalars(db.select(UserSession))] == [users["social_worker"].id]
    assert refused(old.client) and not refused(recent.client)


def test_the_answers_do_not_tell_which_names_exist(app, users):
    """A name that exists and one that does not are answered alike, failure after failure."""
    from tests.test_api import assert_error

    client = app.test_client()
    answers = {}
    for name in ("peksos", "tidak.ada"):
        seen = []
        for _ in range(7):
            response = client.post("/api/v1/auth/token", json={"username": name, "password": "salah-sekali-123"})
            body = response.get_json()["error"]
            seen.append((response.status_code, body["code"], body["message"], sorted(body["details"])))
        answers[name] = seen
    assert answers["peksos"] == answers["tidak.ada"]
    assert [s[0] for s in answers["peksos"]] == [401] * 4 + [429] * 3
    assert_error(client.post("/api/v1/auth/token", json={"username": "tidak.ada", "password": "x"}), 429, "locked_out")


def test_a_stranger_cannot_lock_a_worker_out(app, users):
    """Failures from one address hold back that address only: the worker on their own phone
    logs in while a stranger's address waits."""
    stranger = app.test_client()
    worker = app.test_client()
    for _ in range(12):
        stranger.post("/api/v1/auth/token", json={"username": "peksos", "password": "salah-sekali-123"},
                      environ_base={"REMOTE_ADDR": "203.0.113.9"})
    response = stranger.post("/api/v1/auth/token", json={"username": "peksos", "password": PASSWORD},
                             environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 429
    response = worker.post("/api/v1/auth/token", json={"username": "peksos", "password": PASSWORD},
                           environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 200
    # The table holds neither the name nor the address.
    from sqlalchemy import text

    dumped = " ".join(str(row) for row in db.session.execute(text("SELECT * FROM login_throttle")))
    assert "peksos" not in dumped and "203.0.113" not in dumped


def test_the_admin_sees_and_lifts_a_hold(make_web, users):
    client = make_web()
    for _ in range(5):
        client.post("/login", {"username": "peksos", "password": "salah-sekali-123"})
    admin = make_web()
    admin.login("admin")
    user = users["social_worker"]
    assert "ditahan" in admin.get("/admin/users").get_data(as_text=True)
    page = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "ditahan" in page and f"/admin/users/{user.id}/unlock" in page
    assert admin.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert throttles() == []
    assert client.login("peksos").status_code == 302
