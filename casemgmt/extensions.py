"""Extension objects, created here without an app and bound in the factory."""
from __future__ import annotations

from functools import cached_property

from flask import g, has_app_context
from flask_babel import Babel, Domain
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
    """Flask-Babel's message domain, the request's catalogue kept in the slot Flask-Babel keeps
    for it (``babel_translations`` on its context, which force_locale and refresh clear):
    Flask-Babel otherwise finds the locale and its catalogue anew for each string it translates,
    through context proxies, and a page translates a hundred strings or more."""

    def get_translations(self):
        context = g.get("_flask_babel") if has_app_context() else None
        found = getattr(context, "babel_translations", None)
        if found is None:
            found = super().get_translations()  # outside an app context: Flask-Babel's answer
            if has_app_context():
                g._flask_babel.babel_translations = found  # the context get_locale made
        return found


class LocaleBabel(Babel):
    @cached_property
    def domain_instance(self):
        return LocaleDomain(domain=self.domain)

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        # Templates ask this domain directly, not through get_domain as Flask-Babel's own
        # callables do (which finds the request's context again for each string). Read when
        # called: the domain is made in the first app context.
        def translations():
            return self.domain_instance.get_translations()

        app.jinja_env.install_gettext_callables(
            gettext=lambda s: translations().ugettext(s),
            ngettext=lambda s, p, n: translations().ungettext(s, p, n),
            newstyle=True,
            pgettext=lambda c, s: translations().upgettext(c, s),
            npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        )


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = LocaleBabel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
api = ContractApi()
