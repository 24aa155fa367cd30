"""Admin pages: users and organisations, with validation and conflict messages."""
from __future__ import annotations

from casemgmt.accounts.models import User
from casemgmt.audit.models import AuditEntry
from casemgmt.directory.models import Organisation
from casemgmt.directory.services import find_organisation
from casemgmt.extensions import db
from sqlalchemy import select


def new_user_form(org, **overrides):
    data = {"username": "peksos.baru", "full_name": "Peksos Baru", "sex": "M", "role": "social_worker",
            "organisation_id": str(org.id), "area_code": "", "email": "", "phone": "",
            "active": "y", "password": "Awal-Kerja-2026", "confirm": "Awal-Kerja-2026"}
    data.update(overrides)
    return data


def test_admin_creates_a_user_who_must_change_password(admin_web, org):
    response = admin_web.post("/admin/users/new", new_user_form(org))
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.username == "peksos.baru"))
    assert user.role == "social_worker" and user.organisation_id == org.id
    assert user.area_code == "73.06"  # the organisation's area by default
    assert user.must_change_password
    assert user.password_hash.startswith("$argon2id$")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user_created"))
    assert entry.object_id == str(user.id) and "password_hash" not in entry.after


def test_new_user_errors_are_shown_and_nothing_is_saved(admin_web, org):
    response = admin_web.post("/admin/users/new", new_user_form(org, username="admin", password="pendek",
                                                                 confirm="pendek"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="username-error"' in page or 'id="password-error"' in page
    assert db.session.scalar(select(User).where(User.full_name == "Peksos Baru")) is None


def test_username_taken_is_reported(admin_web, org, users):
    response = admin_web.post("/admin/users/new", new_user_form(org, username="KOORDINATOR"))
    assert response.status_code == 422
    assert 'id="username-error"' in response.get_data(as_text=True)


def test_social_worker_needs_an_organisation(admin_web, org):
    response = admin_web.post("/admin/users/new", new_user_form(org, organisation_id=""))
    assert response.status_code == 422
    assert 'id="organisation_id-error"' in response.get_data(as_text=True)


def edit_form(user, **overrides):
    data = {"username": user.username, "full_name": user.full_name, "sex": user.sex, "role": user.role,
            "organisation_id": str(user.organisation_id or ""), "area_code": user.area_code or "",
            "email": "", "phone": "", "active": "y", "version": str(user.version)}
    data.update(overrides)
    return data


def test_admin_edits_a_user(admin_web, users):
    user = users["social_worker"]
    response = admin_web.post(f"/admin/users/{user.id}", edit_form(user, full_name="Muhammad Arif, S.Sos"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user.id).full_name == "Muhammad Arif, S.Sos"


def test_two_admins_editing_the_same_user_get_a_conflict_not_a_lost_update(make_web, users):
    from tests.factories import UserFactory

    UserFactory(username="admin2", role="admin", organisation=None, area_code=None)
    first, second = make_web(), make_web()
    first.login("admin")
    second.login("admin2")
    user = users["social_worker"]
    seen = edit_form(user)
    assert first.post(f"/admin/users/{user.id}", {**seen, "full_name": "Nama Pertama"}).status_code == 302
    response = second.post(f"/admin/users/{user.id}", {**seen, "full_name": "Nama Kedua"})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Nama Pertama" in page  # what is saved now
    assert 'value="Nama Kedua"' in page  # what they typed is kept
    db.session.expire_all()
    saved = db.session.get(User, user.id)
    assert saved.full_name == "Nama Pertama"
    # The page now carries the saved version: having seen theirs, saving again overwrites on purpose.
    assert f'name="version" type="hidden" value="{saved.version}"' in page
    assert second.post(f"/admin/users/{user.id}", {**seen, "full_name": "Nama Kedua",
                                                   "version": str(saved.version)}).status_code == 302


def test_admin_cannot_disable_themself(admin_web, users):
    admin = users["admin"]
    admin_web.post(f"/admin/users/{admin.id}/active", {"version": admin.version})
    db.session.expire_all()
    assert db.session.get(User, admin.id).active is True


def test_admin_unlocks_a_locked_user(admin_web, users):
    from datetime import timedelta

    from casemgmt.dbtypes import utcnow

    from casemgmt.accounts.models import LoginThrottle
    from casemgmt.accounts.services import held_back_until

    user = users["coordinator"]
    client = admin_web.app.test_client()
    for _ in range(5):
        client.post("/api/v1/auth/token", json={"username": user.username, "password": "salah-sekali-123"})
    assert held_back_until(user) > utcnow() + timedelta(seconds=50)
    assert admin_web.post(f"/admin/users/{user.id}/unlock").status_code == 302
    assert held_back_until(user) is None and db.session.scalars(db.select(LoginThrottle)).all() == []


def test_user_list_filters_by_role(admin_web, users):
    page = admin_web.get("/admin/users?role=agency_officer").get_data(as_text=True)
    assert "dukcapil" in page and ">koordinator<" not in page


def org_form(**overrides):
    data = {"name": "Puskesmas Pallangga", "kind": "puskesmas", "area_code": "73.06.07",
            "services": ["health"], "covers": "73.06.07, 73.06.07.2008", "contact_person": "",
            "phone": "0411-123", "email": "", "address": "", "active": "y"}
    data.update(overrides)
    return data


def test_admin_creates_an_organisation_with_services_and_coverage(admin_web):
    response = admin_web.post("/directory/organisations/new", org_form())
    assert response.status_code == 302
    org = find_organisation("Puskesmas Pallangga")
    assert org.services == ["health"]
    assert org.covered_area_codes == ["73.06.07", "73.06.07.2008"]
    page = admin_web.get(f"/directory/organisations/{org.id}").get_data(as_text=True)
    assert "Desa Panakkukang" in page and "Kecamatan Pallangga" in page


def test_unknown_region_codes_are_reported(admin_web):
    response = admin_web.post("/directory/organisations/new", org_form(area_code="99.99", covers="73.06, 12.34.56"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="area_code-error"' in page and "12.34.56" in page
    assert find_organisation("Puskesmas Pallangga") is None


def test_concurrent_organisation_edits_conflict(make_web, users, org):
    from tests.factories import UserFactory

    UserFactory(username="admin2", role="admin", organisation=None, area_code=None)
    first, second = make_web(), make_web()
    first.login("admin")
    second.login("admin2")
    seen = org_form(name=org.name, kind="pksai", area_code="73.06", services=["case_management"],
                    covers="73.06", phone="", version=str(org.version))
    # Only the services change in the first edit: the version must still move on.
    assert first.post(f"/directory/organisations/{org.id}/edit",
                      {**seen, "services": ["case_management", "family_support"]}).status_code == 302
    response = second.post(f"/directory/organisations/{org.id}/edit", {**seen, "phone": "0811"})
    assert response.status_code == 409
    db.session.expire_all()
    saved = db.session.get(Organisation, org.id)
    assert saved.services == ["case_management", "family_support"] and saved.phone is None


def test_directory_groups_along_the_pathway_and_filters_by_area(web, users):
    web.login("peksos")
    page = web.get("/directory/organisations?area=73.06").get_data(as_text=True)
    page = page[page.index("<section"):]  # past the filter form, which names every kind
    assert page.index("Puskesos Barembeng") < page.index("PKSAI Kabupaten Gowa") < page.index("Dukcapil")
    page = web.get("/directory/organisations?service=birth_certificate").get_data(as_text=True)
    assert "Dukcapil Kabupaten Gowa" in page and "Puskesos Barembeng" not in page


def test_area_search_prefers_the_users_own_area(web, users):
    web.login("desa")  # Puskesos Barembeng, 73.06.01.2006
    page = web.get("/directory/areas/search?q=Barembeng").get_data(as_text=True)
    assert "73.06.01.2006" in page
    page = web.get("/directory/areas/search?q=Panakkukang").get_data(as_text=True)
    # Gowa's village first, then Makassar's kecamatan of the same name.
    assert "73.06.07.2008" in page and "73.71.09" in page
    assert page.index("73.06.07.2008") < page.index("73.71.09")
