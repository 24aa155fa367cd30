"""What operators ask of a running server: are the configured services there (at start-up and
for /readyz), and are the migrations current."""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import create_engine, text

from casemgmt.config import ConfigError

REDIS_SCHEMES = ("redis", "rediss", "unix")
CONNECT_TIMEOUT_SECONDS = 3


def redacted(url: str) -> str:
    """The URL without its password, fit for a message or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def redis_settings(config) -> dict[str, str]:
    """The Redis URLs the configuration uses, by the environment variable that sets each."""
    found = {}
    limits = config.get("RATELIMIT_STORAGE_URI") or ""
    if limits.split(":", 1)[0] in REDIS_SCHEMES:
        found["CASEMGMT_RATELIMIT_STORAGE_URL"] = limits
    if config.get("HUEY_REDIS_URL"):
        found["CASEMGMT_HUEY_REDIS_URL"] = config["HUEY_REDIS_URL"]
    return found


def redis_client(setting: str, url: str):
    """A client for ``url``; a missing ``redis`` package is a ConfigError naming the setting."""
    try:
        import redis
    except ImportError:
        raise ConfigError(f"{setting} asks for Redis ({redacted(url)}) but the 'redis' client is not installed: "
                          "pip install -e '.[production]'") from None
    return redis.Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT_SECONDS,
                                socket_timeout=CONNECT_TIMEOUT_SECONDS)


def ping_redis(setting: str, url: str) -> None:
    client = redis_client(setting, url)
    try:
        client.ping()
    except Exception as exc:  # redis.ConnectionError, TimeoutError, AuthenticationError...
        raise ConfigError(f"{setting}: cannot reach Redis at {redacted(url)}: {exc}") from None
    finally:
        client.close()


def ping_database(url: str) -> None:
    engine = create_engine(url, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
                           if url.startswith("postgresql") else {})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
        raise ConfigError(f"CASEMGMT_DATABASE_URL: cannot reach the database at {redacted(url)}: {reason}") from None
    finally:
        engine.dispose()


def check_services(config) -> None:
    """Refuse to start when a configured service cannot be reached or its client is missing:
    better a server that does not start, with the setting named, than one that answers 500s."""
    url = config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite"):
        ping_database(url)
    for setting, redis_url in redis_settings(config).items():
        ping_redis(setting, redis_url)


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    """The revisions a current database is at (the migrations directory's heads)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from casemgmt import ROOT

    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def readiness(app) -> dict[str, str]:
    """Each dependency's state: "ok" or what is wrong (no secrets). Ready when all are "ok"."""
    from casemgmt.extensions import db

    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        db.session.rollback()
        checks["database"] = f"unreachable ({type(getattr(exc, 'orig', exc)).__name__})"
    if checks["database"] == "ok":
        try:
            rows = set(db.session.execute(text("SELECT version_num FROM alembic_version")).scalars())
        except Exception:
            db.session.rollback()
            rows = set()
        missing = migration_heads() - rows
        checks["migrations"] = "ok" if not missing else f"not current: flask db upgrade to {', '.join(sorted(missing))}"
    for setting, url in redis_settings(app.config).items():
        name = "redis:" + setting.removeprefix("CASEMGMT_").lower()
        client = redis_client(setting, url)
        try:
            client.ping()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"unreachable ({type(exc).__name__})"
        finally:
            client.close()
    return checks
