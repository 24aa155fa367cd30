"""Which language and time zone a request is answered in."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app, g, has_request_context, request, session


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # command line, background jobs
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if request.path.startswith("/api/"):
        # API clients say what they want; without a word from them, the caller's own language.
        if request.accept_languages:
            best = request.accept_languages.best_match(languages)
            if best:
                return best
        return _own_language(g.get("api_user")) or current_app.config["BABEL_DEFAULT_LOCALE"]
    # People choose in the page and keep it in the session (a log-in starts it at the user's own
    # language, accounts.views._start_session); else the user's own, else the default.
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    # Flask-Login's loaded user, without loading one: no query from here.
    return _own_language(g.get("_login_user")) or current_app.config["BABEL_DEFAULT_LOCALE"]


def _own_language(user) -> str | None:
    language = getattr(user, "language", None)
    return language if language in current_app.config["LANGUAGES"] else None


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def local_zone() -> ZoneInfo:
    """The deployment's time zone (WITA for South Sulawesi): local days, dates typed in forms."""
    return ZoneInfo(select_timezone())
