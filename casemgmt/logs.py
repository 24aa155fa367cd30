"""Logs as one JSON object a line, each with the request id that nginx sends (X-Request-ID) or
one made here, so a line in nginx's log, the app's and the user's error page belong together.

Never put a child's data in a log line: ids, codes and counts only."""
from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import datetime, timezone

from flask import g, has_request_context, request

# What an id from the proxy may look like (nginx's $request_id is 32 hex digits).
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# LogRecord's own attributes: anything else on a record came in ``extra`` and is logged.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if has_request_context() and "request_id" in g:
            line["request_id"] = g.request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(json_lines: bool = True, level: int = logging.INFO) -> None:
    """The root logger writes to stderr (systemd's journal), one JSON object a line. Loggers that
    brought their own handler (huey's consumer) write through the same format, once."""
    root = logging.getLogger()
    formatter = JsonFormatter() if json_lines else logging.Formatter(
        "[%(asctime)s] %(levelname)s %(name)s: %(message)s")
    if not any(getattr(h, "_casemgmt", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._casemgmt = True
        root.addHandler(handler)
    for handler in root.handlers:
        if getattr(handler, "_casemgmt", False):
            handler.setFormatter(formatter)
    root.setLevel(level)
    for chatty in ("weasyprint", "fontTools", "alembic.runtime.plugins"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    for name in ("huey", "gunicorn.error"):
        logger = logging.getLogger(name)
        for handler in logger.handlers:
            handler.setFormatter(formatter)
        if logger.handlers:
            logger.propagate = False


def init_app(app) -> None:
    if app.config.get("LOG_FORMAT") in ("json", "text"):
        configure(json_lines=app.config["LOG_FORMAT"] == "json")
    requests_log = logging.getLogger("casemgmt.request")

    @app.before_request
    def take_request_id():
        given = request.headers.get("X-Request-ID", "")
        g.request_id_made = not REQUEST_ID.match(given)
        g.request_id = uuid.uuid4().hex if g.request_id_made else given
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        if "request_id" not in g:
            return response
        if g.request_id_made:  # the proxy tells the client the id it made
            response.headers["X-Request-ID"] = g.request_id
        # The route's pattern, not the path: ids in a path say nothing a log needs.
        requests_log.info("request", extra={
            "method": request.method, "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
        })
        return response
