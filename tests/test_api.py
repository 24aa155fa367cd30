"""The API base: tokens, /me, areas, organisations, errors in the contract's shape, OpenAPI."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from casemgmt.accounts.models import ApiToken
from casemgmt.dbtypes import utcnow
from casemgmt.extensions import db
from tests.factories import PASSWORD


def assert_error(response, status, code):
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


@pytest.fixture
def client(app):
    return app.test_client()


def token_for(client, username):
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_token_issue_answers_token_expiry_and_user(client, users):
    response = client.post("/api/v1/auth/token", json={"username": "koordinator", "password": PASSWORD})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"].startswith("cm_") and len(body["token"]) > 40
    assert body["expires_at"].endswith("+00:00")
    assert body["user"]["username"] == "koordinator" and body["user"]["role"] == "coordinator"
    assert body["user"]["organisation"]["kind"] == "pksai"
    assert "Set-Cookie" not in response.headers


def test_tokens_are_stored_hashed(client, users):
    token = token_for(client, "koordinator")
    rows = db.session.scalars(select(ApiToken)).all()
    assert len(rows) == 1 and token not in rows[0].token_hash and len(rows[0].token_hash) == 64


def test_me(client, users):
    token = token_for(client, "desa")
    body = client.get("/api/v1/me", headers=bearer(token)).get_json()
    assert body == {"id": users["village_worker"].id, "username": "desa",
                    "full_name": users["village_worker"].full_name, "role": "village_worker",
                    "organisation": {"id": users["village_worker"].organisation_id,
                                     "name": "Puskesos Barembeng", "kind": "puskesos"},
                    "area_code": "73.06.01.2006", "email": users["village_worker"].email,
                    "phone": users["village_worker"].phone, "language": None}


def test_wrong_password_is_401_invalid_credentials(client, users):
    response = client.post("/api/v1/auth/token", json={"username": "koordinator", "password": "bukan-ini-123"})
    assert_error(response, 401, "invalid_credentials")


def test_missing_fields_are_422_with_details(client, users):
    error = assert_error(client.post("/api/v1/auth/token", json={"username": "koordinator"}), 422,
                         "validation_error")
    assert "password" in error["details"]["fields"]


def test_malformed_json_is_400(client, users):
    response = client.post("/api/v1/auth/token", data="{not json", content_type="application/json")
    error = assert_error(response, 400, "bad_request")
    # In the caller's language, with no English words of the parser's added in details.
    assert error["message"] == "Isi permintaan bukan JSON yang valid." and error["details"] == {}


def test_repeated_failures_lock_out_with_429(client, users):
    for _ in range(4):
        assert_error(client.post("/api/v1/auth/token", json={"username": "peksos", "password": "salah-123456"}),
                     401, "invalid_credentials")
    assert_error(client.post("/api/v1/auth/token", json={"username": "peksos", "password": "salah-123456"}),
                 429, "locked_out")
    error = assert_error(client.post("/api/v1/auth/token", json={"username": "peksos", "password": PASSWORD}),
                         429, "locked_out")
    assert "locked_until" in error["details"]


def test_token_calls_are_rate_limited(app, client, users):
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        for _ in range(3):
            client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
        assert_error(client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"}),
                     429, "rate_limited")
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "20 per minute"


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer cm_wrong", "Basic YWRtaW46eA==", "cm_x"])
def test_missing_or_bad_token_is_401(client, users, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/api/v1/me", headers=headers)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_revoked_token_stops_working(client, users):
    token = token_for(client, "koordinator")
    response = client.delete("/api/v1/auth/token", headers=bearer(token))
    assert response.status_code == 204
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")


def test_expired_token_stops_working(client, users):
    token = token_for(client, "koordinator")
    row = db.session.scalars(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")


def test_disabling_a_user_ends_their_tokens(client, users):
    from casemgmt.accounts.services import set_active

    token = token_for(client, "peksos")
    user = users["social_worker"]
    set_active(user, False, user.version, users["admin"])
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 401, "unauthorized")


def test_session_cookie_does_not_authenticate_the_api(web, users):
    web.login("koordinator")
    assert_error(web.get("/api/v1/me"), 401, "unauthorized")


def test_areas_without_parent_are_provinces(client, users):
    token = token_for(client, "analis")
    body = client.get("/api/v1/areas", headers=bearer(token)).get_json()
    assert {"code": "73", "name": "Sulawesi Selatan", "level": "province"} in body["items"]


def test_areas_under_a_parent(client, users):
    token = token_for(client, "analis")
    body = client.get("/api/v1/areas?parent=73.06.01", headers=bearer(token)).get_json()
    codes = {item["code"]: item for item in body["items"]}
    assert codes["73.06.01.2006"] == {"code": "73.06.01.2006", "name": "Barembeng", "level": "village"}
    assert all(code.startswith("73.06.01.") for code in codes)
    regencies = client.get("/api/v1/areas?parent=73", headers=bearer(token)).get_json()["items"]
    assert len(regencies) == 24 and {r["level"] for r in regencies} == {"regency"}


def test_areas_bad_or_unknown_parent(client, users):
    token = token_for(client, "analis")
    assert_error(client.get("/api/v1/areas?parent=abc", headers=bearer(token)), 422, "validation_error")
    assert_error(client.get("/api/v1/areas?parent=73.99", headers=bearer(token)), 404, "not_found")


def test_organisations_filtered_by_kind_service_and_area(client, users):
    token = token_for(client, "peksos")
    items = client.get("/api/v1/organisations?service=birth_certificate&area_code=73.06.01",
                       headers=bearer(token)).get_json()["items"]
    assert [o["name"] for o in items] == []  # Dukcapil sits in 73.06 and covers nothing narrower
    items = client.get("/api/v1/organisations?area_code=73.06", headers=bearer(token)).get_json()["items"]
    assert {o["name"] for o in items} == {"PKSAI Kabupaten Gowa", "Puskesos Barembeng", "Dukcapil Kabupaten Gowa"}
    item = next(o for o in items if o["kind"] == "dukcapil")
    assert item["services"] == ["birth_certificate"] and item["area_code"] == "73.06"
    assert_error(client.get("/api/v1/organisations?kind=bank", headers=bearer(token)), 422, "validation_error")


def test_unknown_api_path_is_json_404(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "not_found")


def test_wrong_method_is_json_405(client, users):
    token = token_for(client, "peksos")
    assert_error(client.put("/api/v1/me", headers=bearer(token)), 405, "method_not_allowed")


def test_api_messages_follow_accept_language(client, users):
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": "y"},
                           headers={"Accept-Language": "en"})
    assert response.get_json()["error"]["message"] == "Wrong username or password."
    response = client.post("/api/v1/auth/token", json={"username": "x", "password": "y"})
    assert response.get_json()["error"]["message"] == "Nama pengguna atau kata sandi salah."


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.get_json()
    assert spec["openapi"].startswith("3.")
    for path in ("/api/v1/auth/token", "/api/v1/me", "/api/v1/areas", "/api/v1/organisations"):
        assert path in spec["paths"], path
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert spec["paths"]["/api/v1/auth/token"]["post"]["security"] == []


def test_a_temporary_password_gets_no_token_until_it_is_changed(client, users, make_web):
    from casemgmt.accounts import services

    user = users["social_worker"]
    old_token = token_for(client, "peksos")
    services.set_password(user, "Sementara-Gowa-77", users["admin"], temporary=True)  # an admin's reset
    response = client.post("/api/v1/auth/token", json={"username": "peksos", "password": "Sementara-Gowa-77"})
    error = assert_error(response, 403, "password_change_required")
    assert "kata sandi" in error["message"].lower()
    assert_error(client.post("/api/v1/auth/token", json={"username": "peksos", "password": "salah-salah-123"}),
                 401, "invalid_credentials")  # the wrong password learns nothing of the reset
    assert_error(client.get("/api/v1/me", headers=bearer(old_token)), 401, "unauthorized")
    assert db.session.scalar(select(ApiToken).where(ApiToken.revoked_at.is_(None), ApiToken.user_id == user.id)
                             .order_by(ApiToken.id.desc())).session_epoch != user.session_epoch
    web = make_web()
    web.login("peksos", "Sementara-Gowa-77")
    assert web.post("/account/password", {"current_password": "Sementara-Gowa-77", "password": "Pilihan-Sendiri-88",
                                          "confirm": "Pilihan-Sendiri-88"}).status_code == 302
    response = client.post("/api/v1/auth/token", json={"username": "peksos", "password": "Pilihan-Sendiri-88"})
    assert response.status_code == 200


def test_a_token_of_a_user_who_must_change_the_password_is_refused(client, users):
    token = token_for(client, "peksos")
    users["social_worker"].must_change_password = True  # set as a new account's is
    db.session.commit()
    assert_error(client.get("/api/v1/me", headers=bearer(token)), 403, "password_change_required")
