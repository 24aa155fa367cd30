"""factory_boy factories for test data."""
from __future__ import annotations

import factory
from factory.alchemy import SQLAlchemyModelFactory

from casemgmt.accounts.models import User
from casemgmt.accounts.passwords import hash_password
from casemgmt.directory.models import Organisation, OrganisationCoverage, OrganisationService
from casemgmt.extensions import db

PASSWORD = "Tepat-Waktu-2026"


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class OrganisationFactory(BaseFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"PKSAI Uji {n}")
    kind = "pksai"
    area_code = "73.06"
    version = 1

    @factory.post_generation
    def services(obj, create, extracted, **kwargs):
        for code in extracted or []:
            obj.service_rows.append(OrganisationService(service=code))
        if create and extracted:
            db.session.commit()

    @factory.post_generation
    def covers(obj, create, extracted, **kwargs):
        for code in extracted or []:
            obj.coverage_rows.append(OrganisationCoverage(area_code=code))
        if create and extracted:
            db.session.commit()


_HASHES: dict[str, str] = {}


def password_hash_for(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = hash_password(password)
    return _HASHES[password]


class UserFactory(BaseFactory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"pengguna{n}")
    full_name = factory.Sequence(lambda n: f"Pengguna Uji {n}")
    sex = "F"
    role = "coordinator"
    organisation = factory.SubFactory(OrganisationFactory)
    area_code = factory.LazyAttribute(lambda o: o.organisation.area_code if o.organisation else None)
    password_hash = factory.LazyFunction(lambda: password_hash_for(PASSWORD))
    active = True
    version = 1


def complaint_input(children=None, **overrides) -> dict:
    """A valid complaint as the services take it; children default to one girl in Barembeng."""
    from casemgmt.dbtypes import utcnow

    data = {
        "channel": "walk_in",
        "received_at": utcnow(),
        "reporter": {"name": "Ibu Rahma", "phone": "0812 3456 7890", "relationship": "tetangga", "anonymous": False},
        "children": children or [child_input()],
        "concerns": ["out_of_school", "no_birth_certificate"],
        "description": "Anak perempuan tidak bersekolah sejak kelas 4 dan belum punya akta kelahiran.",
        "urgent": False,
    }
    data.update(overrides)
    return data


def child_input(**overrides) -> dict:
    from datetime import date

    data = {"name": "Nurul Aisyah", "sex": "F", "birth_date": date(2014, 3, 9), "age_years": None, "nik": None,
            "area_code": "73.06.01.2006", "address": "Dusun Barembeng, RT 02", "caregiver_name": "Daeng Ngai",
            "caregiver_relationship": "ibu", "caregiver_phone": None}
    data.update(overrides)
    return data


def make_case(actor, decisions=None, **child_overrides):
    """A case registered through the real service, as the given user, and committed as the
    request that registered it would have."""
    from casemgmt.cases.intake import register_complaint
    from casemgmt.transactions import commit

    case = register_complaint(complaint_input([child_input(**child_overrides)]), actor, decisions or {0: "new"}).cases[0]
    commit()
    return case


def every_page(user, query: str, limit: int = 2) -> list[int]:
    """The ids a search lists for ``user``, following its cursor page by page."""
    from casemgmt.cases.records import CaseFilters, list_cases

    seen, cursor = [], None
    while True:
        cases, cursor = list_cases(user, CaseFilters(q=query), limit=limit, cursor=cursor)
        seen += [c.id for c in cases]
        if cursor is None:
            return seen


def api_pages(get, url: str, item=lambda item: item["id"], most: int = 200) -> list[list]:
    """Every page of an API list, following next_cursor: ``get(url)`` answers a response (a test
    client's get with its headers bound, or the api fixture's); each page as ``item`` of its items.
    A list still handing out cursors after ``most`` pages fails the test instead of looping."""
    pages, cursor = [], None
    while len(pages) < most:
        body = get(url + ("&" if "?" in url else "?") + f"cursor={cursor}" if cursor else url).get_json()
        pages.append([item(entry) for entry in body["items"]])
        if not (cursor := body["next_cursor"]):
            return pages
    raise AssertionError(f"{url}: still a next page after {most}")


def bearer_for(client, username: str, password: str = PASSWORD) -> dict:
    """The Authorization header of a fresh API token for ``username`` (through the real endpoint)."""
    response = client.post("/api/v1/auth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.get_data(as_text=True)
    return {"Authorization": f"Bearer {response.get_json()['token']}"}
