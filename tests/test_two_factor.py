"""Optional two-factor log-in (TOTP), required for the roles the configuration names."""
from __future__ import annotations

import re

import pyotp
import pytest

from casemgmt.accounts.models import User
from casemgmt.extensions import db
from tests.factories import PASSWORD
from tests.test_api import assert_error


def reload(user):
    db.session.expire_all()
    return db.session.get(User, user.id)


def next_code(secret, steps=1):
    """A code of a later time step than now's, which the server takes (a phone's clock may run a
    step ahead): the code enrolling used now's, and a code is good once."""
    import time

    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def enrol(web):
    page = web.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="user-select-all">([A-Z2-7]+)</code>', page).group(1)
    assert web.post("/account/two-factor", {"code": "000000"}).status_code == 422
    assert web.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()}).status_code == 302
    return secret


def test_enrolled_user_needs_the_code_to_log_in(make_web, users):
    web = make_web()
    web.login("koordinator")
    secret = enrol(web)
    assert reload(users["coordinator"]).totp_secret == secret
    web.logout()
    response = web.post("/login", {"username": "koordinator", "password": PASSWORD})
    assert response.headers["Location"].endswith("/login/code")
    assert web.get("/").status_code == 302  # not in yet
    assert web.post("/login/code", {"code": "123456"}).status_code == 422
    from casemgmt.accounts.models import LoginThrottle

    assert [t.failures for t in db.session.scalars(db.select(LoginThrottle))] == [1]  # counts toward the back-off
    response = web.post("/login/code", {"code": next_code(secret)})
    assert response.status_code == 302 and web.get("/").status_code == 200


def test_wrong_codes_lock_the_account(make_web, users):
    web = make_web()
    web.login("koordinator")
    enrol(web)
    web.logout()
    web.post("/login", {"username": "koordinator", "password": PASSWORD})
    for _ in range(5):
        response = web.post("/login/code", {"code": "111111"})
    assert "Terlalu banyak" in response.get_data(as_text=True)
    from casemgmt.accounts.services import held_back_until

    assert held_back_until(users["coordinator"]) is not None


def test_entering_the_password_again_does_not_clear_wrong_codes(app, make_web, users):
    """The password alone finishes no log-in, so it cannot reset the count of wrong codes."""
    web = make_web()
    web.login("koordinator")
    enrol(web)
    web.logout()
    client = app.test_client()
    for _ in range(4):
        web.post("/login", {"username": "koordinator", "password": PASSWORD})
        assert web.post("/login/code", {"code": "111111"}).status_code == 422
    assert_error(client.post("/api/v1/auth/token", json={"username": "koordinator", "password": PASSWORD,
                                                         "totp": "222222"}), 429, "locked_out")
    from casemgmt.accounts.services import held_back_until

    assert held_back_until(users["coordinator"]) is not None
    from casemgmt.audit.models import AuditEntry

    logins = db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.action.like("login%"))).all()
    assert "login" in logins and logins.count("login") == 1  # only the enrolling log-in succeeded


def test_required_roles_must_enrol_before_anything_else(app, make_web, users):
    app.config["REQUIRE_2FA_ROLES"] = ("coordinator", "admin")
    try:
        web = make_web()
        web.login("koordinator")
        response = web.get("/cases")
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/two-factor")
        enrol(web)
        assert web.get("/cases").status_code == 200
        worker = make_web()
        worker.login("peksos")  # not a required role
        assert worker.get("/cases").status_code == 200
    finally:
        app.config["REQUIRE_2FA_ROLES"] = ()


def test_api_token_needs_the_code_too(app, make_web, users):
    web = make_web()
    web.login("koordinator")
    secret = enrol(web)
    client = app.test_client()
    error = assert_error(client.post("/api/v1/auth/token", json={"username": "koordinator", "password": PASSWORD}),
                         401, "invalid_credentials")
    assert error["details"] == {"totp_required": True}
    response = client.post("/api/v1/auth/token", json={"username": "koordinator", "password": PASSWORD,
                                                       "totp": next_code(secret)})
    assert response.status_code == 200


def test_admin_resets_a_lost_phone(make_web, users):
    web = make_web()
    web.login("koordinator")
    enrol(web)
    admin = make_web()
    admin.login("admin")
    user = users["coordinator"]
    assert admin.post(f"/admin/users/{user.id}/two-factor-reset").status_code == 302
    assert reload(user).totp_secret is None
    assert web.get("/").status_code == 302  # their sessions ended


@pytest.mark.parametrize("code", ["", "12345", "abcdef", "1234567"])
def test_malformed_codes_are_refused(code):
    from casemgmt.accounts.twofactor import code_ok

    assert not code_ok(pyotp.random_base32(), code)


def test_a_code_is_taken_once(app, make_web, users):
    """The same code (or one of an earlier step) does not log in twice, on the page or the API."""
    web = make_web()
    web.login("koordinator")
    secret = enrol(web)
    web.logout()
    enrolled = reload(users["coordinator"]).totp_last_step
    now_code = pyotp.TOTP(secret).generate_otp(enrolled)
    web.post("/login", {"username": "koordinator", "password": PASSWORD})
    assert web.post("/login/code", {"code": now_code}).status_code == 422  # enrolling took it
    code = pyotp.TOTP(secret).generate_otp(enrolled + 1)
    assert web.post("/login/code", {"code": code}).status_code == 302
    web.logout()
    client = app.test_client()
    response = client.post("/api/v1/auth/token", json={"username": "koordinator", "password": PASSWORD,
                                                       "totp": code})
    assert_error(response, 401, "invalid_credentials")
    thief = make_web()
    thief.post("/login", {"username": "koordinator", "password": PASSWORD})
    assert thief.post("/login/code", {"code": code}).status_code == 422
    assert thief.post("/login/code", {"code": now_code}).status_code == 422  # an earlier step neither
    assert reload(users["coordinator"]).totp_last_step == enrolled + 1


def test_codes_are_taken_once_per_user(app, make_web, users):
    """Two users with one secret (a test's coincidence) each take the same code once."""
    from casemgmt.accounts.twofactor import use_code

    secret = pyotp.random_base32()
    first, second = users["coordinator"], users["social_worker"]
    for user in (first, second):
        user.totp_secret = secret
    db.session.commit()
    code = pyotp.TOTP(secret).now()
    assert use_code(first, code) and use_code(second, code)
    assert not use_code(first, code) and not use_code(second, code)
