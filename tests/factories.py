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
