"""The installable web app's own addresses: the manifest and service worker at the site's root (a
worker controls the pages under the folder it is served from), the outbox page, and the session's
CSRF token for the app's API calls (api.session_user)."""
from __future__ import annotations

import hashlib

from flask import Blueprint, current_app, jsonify, render_template
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from casemgmt.access import can, requires
from casemgmt.templating import asset_url

bp = Blueprint("offline", __name__)

# What every page needs, kept when the worker installs.
SHELL_ASSETS = ("vendor/bootstrap/bootstrap.used.min.css", "css/app.css", "vendor/htmx/htmx.min.js",
                "js/app.js", "js/offline.js", "favicon.svg")
# The pages that work offline, who may open them, and their own script: kept for a user once the
# worker runs (offline.js asks for offline_keep()), so a phone fetches only what its user can use.
OFFLINE_PAGES = {"cases.new_complaint": ("cases.register", "js/intake-offline.js"),
                 "offline.outbox": ("cases.register", "js/outbox.js"),
                 "offline.field_cases": ("cases.offline", "js/fieldwork.js")}


def offline_keep() -> list[str]:
    """The pages that work offline for the current user, then their scripts."""
    from flask import url_for

    allowed = [(endpoint, script) for endpoint, (permission, script) in OFFLINE_PAGES.items()
               if can(current_user, permission)]
    return [url_for(endpoint) for endpoint, _ in allowed] + [asset_url(script) for _, script in allowed]


@bp.get("/sw.js")
def service_worker():
    from flask import url_for

    assets = [asset_url(name) for name in SHELL_ASSETS]
    pages = [url_for(endpoint) for endpoint in OFFLINE_PAGES]
    keepable = pages + [asset_url(script) for _, script in OFFLINE_PAGES.values()]
    # The worker's text changes with any asset, so the browser installs the new one.
    version = hashlib.sha256("\n".join(assets + keepable).encode()).hexdigest()[:12]
    body = render_template("offline/sw.js", assets=assets, pages=pages, keepable=keepable, version=version,
                           fallback=url_for("offline.outbox"), icon=asset_url("icons/icon-192.png"))
    # no-store, as every answer but a versioned file (security.py): a phone checks for a new worker
    # on every visit, and the worker names the versioned files it keeps.
    return current_app.response_class(body, mimetype="text/javascript")


@bp.get("/manifest.webmanifest")
def manifest():
    from flask import url_for

    body = {
        "name": "casemgmt: " + _("Child protection"), "short_name": "casemgmt",
        "description": _("Register complaints and follow cases, also without a signal."),
        "lang": "id", "start_url": url_for("home.index"), "scope": "/", "display": "standalone",
        "background_color": "#ffffff", "theme_color": "#0d6efd",
        "icons": [{"src": asset_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                  {"src": asset_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                  {"src": asset_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png",
                   "purpose": "maskable"}],
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/app/outbox")
@requires("cases.register")
def outbox():
    """The complaints and visits waiting on this phone; the list is the phone's, drawn by offline.js."""
    return render_template("offline/outbox.html")


@bp.get("/app/cases")
@requires("cases.offline")
def field_cases():
    """A social worker's open cases taken onto the phone: notes and the child's details recorded
    at the family's house, queued in the outbox; the cases themselves are the phone's (encrypted),
    drawn by fieldwork.js from the offline bundle."""
    return render_template("offline/cases.html")


@bp.get("/app/session")
@login_required
def session_token():
    """The session's CSRF token for the app's API calls; answered to same-origin scripts only (no
    CORS), never cached."""
    return jsonify({"csrf_token": generate_csrf(), "username": current_user.username})
