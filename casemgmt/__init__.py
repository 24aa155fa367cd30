"""casemgmt: child-protection case management for Indonesia. The application factory."""
from __future__ import annotations

import os
from pathlib import Path

from casemgmt import config as config_module
from casemgmt.transactions import App

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None) -> App:
    """Build the app. ``config`` overrides what the environment says (tests use it)."""
    instance_path = os.environ.get("CASEMGMT_INSTANCE_PATH") or str(ROOT / "instance")
    app = App(
        __name__,
        instance_path=instance_path,
        template_folder=str(ROOT / "templates"),
    )
    app.config.from_mapping(config_module.load(app.instance_path, config))
    if app.config["CHECK_SERVICES"]:
        from casemgmt.ops import check_services

        check_services(app.config)
    # JSON keys in the order the body is built: sorting them buys nothing and is a real share of
    # a list's time.
    app.json.sort_keys = False
    register_logging(app)
    register_converters(app)
    register_workflow(app)
    register_extensions(app)
    register_security(app)
    register_compression(app)
    register_blueprints(app)
    register_errors(app)
    register_metrics(app)
    register_templates(app)
    register_cli(app)
    return app


def register_logging(app: App) -> None:
    from casemgmt import logs

    logs.init_app(app)


def register_extensions(app: App) -> None:
    from casemgmt import models  # noqa: F401  (every table known before migrations and create_all)
    from casemgmt.extensions import (
        api,
        babel,
        csrf,
        db,
        limiter,
        login_manager,
        migrate,
    )
    from casemgmt import forms

    forms.install()
    from casemgmt.i18n import select_locale, select_timezone

    db.init_app(app)
    migrate.init_app(app, db, render_as_batch=True, compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    limiter.init_app(app)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearer": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearer": []}]})
    from casemgmt.dbsetup import configure_engines

    configure_engines(app)


def register_converters(app: App) -> None:
    """Ids in URLs stay within the database's integer range: a larger one is a plain 404,
    not an overflow deep in the driver."""
    from werkzeug.routing import IntegerConverter

    from casemgmt.dbtypes import MAX_ID

    class BoundedInt(IntegerConverter):
        def __init__(self, map, fixed_digits=0, min=None, max=None, signed=False):  # noqa: A002 - werkzeug's names
            super().__init__(map, fixed_digits=fixed_digits, min=min, max=MAX_ID if max is None else max,
                             signed=signed)

    app.url_map.converters["int"] = BoundedInt


def register_workflow(app: App) -> None:
    """Refuse to start with a broken SOP definition (unknown stage, guard, role, clock...)."""
    from casemgmt.workflow.definition import validate

    validate()


def register_security(app: App) -> None:
    from casemgmt import security

    security.init_app(app)


def register_compression(app: App) -> None:
    from casemgmt import compression

    if app.config["APP_GZIP"]:
        compression.init_app(app)


def register_blueprints(app: App) -> None:
    from casemgmt.accounts.views import bp as accounts_bp
    from casemgmt.api import register_api
    from casemgmt.cases.views import bp as cases_bp
    from casemgmt.conferences.views import bp as conferences_bp
    from casemgmt.directory.views import bp as directory_bp
    from casemgmt.home.views import bp as home_bp
    from casemgmt.notify.views import bp as notify_bp
    from casemgmt.offline.views import bp as offline_bp
    from casemgmt.population.views import bp as population_bp
    from casemgmt.referrals.views import bp as referrals_bp
    from casemgmt.reports.views import bp as reports_bp
    from casemgmt.workflow.views import bp as workflow_bp
    from casemgmt.transfers.views import bp as transfers_bp

    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(directory_bp)
    app.register_blueprint(cases_bp)
    app.register_blueprint(workflow_bp)
    app.register_blueprint(referrals_bp)
    app.register_blueprint(conferences_bp)
    app.register_blueprint(reports_bp)
    app.register_blueprint(offline_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(transfers_bp)
    app.register_blueprint(population_bp)
    register_api(app)


def register_metrics(app: App) -> None:
    from casemgmt import metrics

    metrics.init_app(app)


def register_errors(app: App) -> None:
    from casemgmt.errors import register_error_handlers

    register_error_handlers(app)


def register_templates(app: App) -> None:
    from casemgmt import templating

    templating.init_app(app)


def register_cli(app: App) -> None:
    from casemgmt.accounts.cli import users_cli
    from casemgmt.demo import demo_cli
    from casemgmt.directory.cli import areas_cli, organisations_cli
    from casemgmt.notify.cli import notify_cli
    from casemgmt.population.cli import population_cli
    from casemgmt.privacy.cli import backup_command, privacy_cli
    from casemgmt.reports.cli import reports_cli
    from casemgmt.workflow.cli import workflow_cli

    for group in (areas_cli, organisations_cli, users_cli, demo_cli, workflow_cli, privacy_cli, backup_command,
                  reports_cli, notify_cli, population_cli):
        app.cli.add_command(group)
