"""Settings read from the environment (CASEMGMT_*), with safe defaults for one laptop."""
from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

ENVIRONMENTS = ("development", "production", "testing")


class ConfigError(RuntimeError):
    """The environment asks for something the app must not start with."""


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(f"CASEMGMT_{name}")
    return value if value not in (None, "") else default


def _flag(name: str, default: bool) -> bool:
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def instance_secret_key(instance_path: str) -> str:
    """A random key generated once and kept in instance/, so a laptop needs no setup.

    Several app servers must share one key: set CASEMGMT_SECRET_KEY there.
    """
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


# The push services of the browsers people use (Chrome/Android, Firefox, Safari, Edge): a Web Push
# subscription must point at one of them over HTTPS, so that nobody can have the server post to
# an address of their choosing, an internal service say (notify.push.endpoint_allowed).
PUSH_SERVICE_HOSTS = ("fcm.googleapis.com", "push.services.mozilla.com", "push.apple.com", "notify.windows.com")


def _push_hosts(extra: str) -> tuple[str, ...]:
    return PUSH_SERVICE_HOSTS + tuple(h.strip().lower() for h in extra.split(",") if h.strip())


def load(instance_path: str, overrides: dict | None = None) -> dict:
    """Build the Flask config mapping from the environment and optional overrides."""
    overrides = dict(overrides or {})
    env = overrides.pop("ENV", None) or _env("ENV", "development")
    if env not in ENVIRONMENTS:
        raise ConfigError(f"CASEMGMT_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}")
    production = env == "production"
    db_url = _env("DATABASE_URL") or f"sqlite:///{Path(instance_path) / 'casemgmt.db'}"
    if db_url.startswith("postgres://"):
        db_url = "postgresql://" + db_url[len("postgres://"):]
    if db_url.startswith("postgresql://"):
        # psycopg 3 is the driver we ship; the plain scheme would ask for psycopg2.
        db_url = "postgresql+psycopg://" + db_url[len("postgresql://"):]

    cfg: dict = {
        "CASEMGMT_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": _env("SECRET_KEY") or None,
        "SQLALCHEMY_DATABASE_URI": db_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SQLITE_MMAP_BYTES": 0,  # the background worker's app maps the file (dbsetup.WORKER_MMAP_BYTES)
        # How long a request waits for SQLite's one writer before it is told the system is busy
        # (errors.Busy, a 503 that asks to send it again).
        "SQLITE_BUSY_TIMEOUT_MS": int(_env("SQLITE_BUSY_TIMEOUT_MS", "10000")),
        # Sessions: HttpOnly and SameSite always; Secure whenever we are in production.
        "SESSION_COOKIE_NAME": "casemgmt_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production or _flag("SECURE_COOKIES", False),
        "REMEMBER_COOKIE_SECURE": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "PERMANENT_SESSION_LIFETIME": timedelta(minutes=int(_env("IDLE_TIMEOUT_MINUTES", "30"))),
        "SESSION_REFRESH_EACH_REQUEST": False,  # security.SEEN_STEP
        "WTF_CSRF_TIME_LIMIT": None,  # the token lives as long as the session, which idles out
        "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,  # uploads
        # A district's SIAK extract (a million residents is some 250 MB of CSV) and what its
        # XLSX may unpack to; larger ones are refused by size before a byte is read.
        "POPULATION_MAX_BYTES": int(_env("POPULATION_MAX_BYTES", str(400 * 1024 * 1024))),
        "POPULATION_MAX_UNPACKED_BYTES": int(_env("POPULATION_MAX_UNPACKED_BYTES", str(1536 * 1024 * 1024))),
        # A JSON body (the largest the contract knows, a plan of many goals, is some kilobytes).
        "MAX_JSON_BYTES": int(_env("MAX_JSON_BYTES", str(1024 * 1024))),
        # Where attachments were kept before they moved into the database (casemgmt.storage):
        # migration 5f2a8c1d9e37 reads the files from here into it.
        "UPLOAD_PATH": _env("UPLOAD_PATH") or str(Path(instance_path) / "attachments"),
        # Accounts
        "LOCKOUT_THRESHOLD": 5,
        "LOCKOUT_MINUTES": 15,
        "PASSWORD_MIN_LENGTH": 10,
        "API_TOKEN_HOURS": int(_env("API_TOKEN_HOURS", "12")),
        # Argon2id parameters (RFC 9106 "second recommended" profile by default).
        "ARGON2_TIME_COST": 3,
        "ARGON2_MEMORY_COST": 64 * 1024,
        "ARGON2_PARALLELISM": 2,
        # Rate limiting: memory on one machine, Redis where several app servers share it.
        "RATELIMIT_STORAGE_URI": _env("RATELIMIT_STORAGE_URL", "memory://"),
        # Redis away for a moment (restarted, failed over): limits are counted in this process's
        # memory meanwhile rather than the request failing, and in Redis again once it answers.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        "RATELIMIT_ENABLED": _flag("RATELIMIT_ENABLED", True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "LOGIN_RATE_LIMIT": _env("LOGIN_RATE_LIMIT", "20 per minute"),
        # i18n: Bahasa Indonesia first; times shown in South Sulawesi's zone (WITA).
        "BABEL_DEFAULT_LOCALE": "id",
        "BABEL_DEFAULT_TIMEZONE": _env("TIMEZONE", "Asia/Makassar"),
        "LANGUAGES": ("id", "en"),
        "PROXY_FIX": _flag("PROXY_FIX", False),
        # Background jobs on Redis where several servers share them (casemgmt.jobs reads the same variable).
        "HUEY_REDIS_URL": _env("HUEY_REDIS_URL"),
        # Start only when the database and every configured Redis answer (casemgmt.ops.check_services).
        "CHECK_SERVICES": _flag("CHECK_SERVICES", env != "testing"),
        # The app's own gzip (casemgmt.compression); off behind an nginx that compresses text.
        "APP_GZIP": _flag("APP_GZIP", True),
        # One JSON object a line with the request id (casemgmt.logs); "text" for people; unset
        # leaves logging as Flask sets it (development, tests).
        "LOG_FORMAT": _env("LOG_FORMAT", "json" if production else None),
        # Prometheus metrics at /metrics (casemgmt.metrics); nginx does not pass it on.
        "METRICS": _flag("METRICS", production),
        **({"EXPORT_BACKGROUND_OVER": int(_env("EXPORT_BACKGROUND_OVER"))} if _env("EXPORT_BACKGROUND_OVER") else {}),
        "DEMO_DATA_ALLOWED": not production,
        # Notifications (casemgmt.notify): the SMTP server (smtp://user:password@host:587?starttls=1),
        # the sender, and the address of this app that messages link to.
        "SMTP_URL": _env("SMTP_URL"),
        "MAIL_FROM": _env("MAIL_FROM"),
        "SMTP_CA_FILE": _env("SMTP_CA_FILE"),  # a private CA for the SMTP server's STARTTLS certificate
        "PUBLIC_URL": _env("PUBLIC_URL", "http://localhost:5000"),
        # Roles that must use a second factor (TOTP) to log in, e.g. "coordinator,admin".
        "REQUIRE_2FA_ROLES": tuple(r.strip() for r in (_env("REQUIRE_2FA_ROLES", "") or "").split(",") if r.strip()),
        # Notification channels (casemgmt/notify): each is off until configured.
        # SMS/WhatsApp gateway (notify/sms.py, docs/sms-gateway.md): URL and HMAC secret.
        "SMS_GATEWAY_URL": _env("SMS_GATEWAY_URL"),
        "SMS_GATEWAY_SECRET": _env("SMS_GATEWAY_SECRET"),
        "SMS_GATEWAY_TIMEOUT": float(_env("SMS_GATEWAY_TIMEOUT", "10")),
        # Web Push (notify/push.py): the VAPID private key (PEM or base64url, `flask notify
        # vapid-keys` makes one) and the mailto: the push services may write to.
        "VAPID_PRIVATE_KEY": _env("VAPID_PRIVATE_KEY"),
        "VAPID_SUBJECT": _env("VAPID_SUBJECT"),
        "PUSH_TIMEOUT": float(_env("PUSH_TIMEOUT", "10")),
        # Hosts of push services a browser's subscription may point at, beyond the big browsers'
        # (PUSH_SERVICE_HOSTS above), comma-separated: a self-hosted one, say.
        "PUSH_SERVICE_HOSTS": _push_hosts(_env("PUSH_SERVICE_HOSTS", "")),
        # flask-smorest / OpenAPI
        "API_TITLE": "casemgmt API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }
    if env == "testing":
        cfg.update(
            ARGON2_TIME_COST=1,
            ARGON2_MEMORY_COST=8 * 1024,
            ARGON2_PARALLELISM=1,
        )
    cfg.update(overrides)
    if not cfg["SECRET_KEY"]:
        cfg["SECRET_KEY"] = instance_secret_key(instance_path)
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        Path(instance_path).mkdir(parents=True, exist_ok=True)
    return cfg
