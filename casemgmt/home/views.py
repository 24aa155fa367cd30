"""Home page by role, my tasks, language switch, health check."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from casemgmt import paging
from casemgmt.access import requires
from casemgmt.cases.models import Case
from casemgmt.extensions import db
from casemgmt.forms import safe_next
from casemgmt.home.tasks import count_tasks, my_tasks
from casemgmt.workflow.notices import mark_all_read, unread_notifications
from casemgmt.workflow.stages import STAGES

bp = Blueprint("home", __name__)


@bp.get("/")
@login_required
def index():
    notes = unread_notifications(current_user)
    cases = {c.id: c for c in db.session.scalars(select(Case).where(Case.id.in_([n.case_id for n in notes])))}
    from casemgmt.reports.services import dashboard

    from casemgmt.home.waiting import waiting_for
    from casemgmt.population.services import home_coverage

    return render_template("home/index.html", user=current_user, sop_stages=STAGES, notifications=notes,
                           notified_cases=cases, dash=dashboard(current_user), waiting=waiting_for(current_user),
                           home_coverage=home_coverage(current_user))


@bp.get("/tasks")
@requires("tasks.view")
def tasks():
    (items, next_cursor), cursor = paging.or_first_page(
        lambda cursor: my_tasks(current_user, cursor=cursor), request.args.get("cursor"))
    from casemgmt.transfers.services import incoming

    return render_template("home/tasks.html", items=items, next_cursor=next_cursor, cursor=cursor,
                           total=count_tasks(current_user), incoming=incoming(current_user))


@bp.post("/notifications/read")
@login_required
def mark_notifications_read():
    mark_all_read(current_user)
    return redirect(url_for("home.index"))


@bp.get("/lang/<code>")
def set_language(code: str):
    if code in current_app.config["LANGUAGES"]:
        session["lang"] = code
    return redirect(safe_next(request.args.get("next"), url_for("home.index")))


@bp.get("/healthz")
def health():
    """Liveness: the process answers (a supervisor restarts it when not). Asks nothing else, so
    a database or Redis away does not get every server restarted."""
    return jsonify(status="ok")


@bp.get("/readyz")
def ready():
    """Readiness, for the proxy and the deploy: the database and every configured Redis answer
    and the migrations are current. 503 with each check's state otherwise."""
    from casemgmt.ops import readiness

    checks = readiness(current_app)
    ok = all(state == "ok" for state in checks.values())
    response = jsonify(status="ok" if ok else "unavailable", checks=checks)
    response.status_code = 200 if ok else 503
    if not ok:
        response.headers["Retry-After"] = "5"
    return response
