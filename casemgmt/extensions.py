"""Extension objects, created here without an app and bound in the factory."""
from __future__ import annotations

from functools import cached_property

from flask_babel import Babel, Domain, get_locale
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ContractApi(Api):
    """flask-smorest's Api, minus its app-wide JSON error handler.

    Pages and API share one error handler (casemgmt.errors) that answers JSON in the
    contract's shape to API callers and an HTML page to people.
    """

    def _register_error_handlers(self):
        pass

    def _register_responses(self):
        # Document our error shape, not flask-smorest's default one.
        from casemgmt.api.schemas import ErrorSchema

        self.ERROR_SCHEMA = ErrorSchema
        super()._register_responses()


class LocaleDomain(Domain):
    """Flask-Babel's message domain, its catalogues kept by locale: Flask-Babel finds the request's
    context twice more and writes the locale's name out for each string it translates (8.5 us a
    string against 5.7; a case page translates some 110)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._by_locale: dict = {}

    def get_translations(self):
        locale = get_locale()
        if locale is None:  # outside a request: Flask-Babel's answer
            return super().get_translations()
        found = self._by_locale.get(locale)
        if found is None:
            found = self._by_locale[locale] = super().get_translations()
        return found


class LocaleBabel(Babel):
    @cached_property
    def domain_instance(self):
        return LocaleDomain(domain=self.domain)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = LocaleBabel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = ContractApi()
