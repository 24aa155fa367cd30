"""Which language and time zone a request is answered in."""
from __future__ import annotations

from datetime import datetime, timezone
from functools import lru_cache
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


NAMED_FORMATS = ("short", "medium", "long", "full")


@lru_cache(maxsize=64)
def _datetime_pattern(locale: str, fmt: str):
    """The locale's pattern for a named format ("short" ...), date and time in one, as Babel's
    format_datetime joins them; or ``fmt`` itself, a pattern."""
    from babel import Locale
    from babel.dates import get_date_format, get_datetime_format, get_time_format, parse_pattern

    if fmt not in NAMED_FORMATS:
        return parse_pattern(fmt)
    parsed = Locale.parse(locale)
    # The glue ("{1} {0}", "{1} 'pukul' {0}") is itself a pattern: its quoted words stay words.
    glue = get_datetime_format(fmt, parsed)
    return parse_pattern(glue.replace("{0}", get_time_format(fmt, parsed).pattern)
                         .replace("{1}", get_date_format(fmt, parsed).pattern))


def format_datetime(value: datetime, fmt: str = "medium") -> str:
    """A moment as Flask-Babel's format_datetime writes it (in the user's language and the
    deployment's time zone; a naive one is UTC), with the pattern parsed once per language and
    format instead of at each call: a page lists up to a hundred moments."""
    from babel import Locale
    from flask_babel import get_locale, get_timezone

    locale = get_locale() or Locale.parse(current_app.config["BABEL_DEFAULT_LOCALE"])
    zone = get_timezone()
    local = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(zone)
    return _datetime_pattern(str(locale), fmt).apply(local, locale)
