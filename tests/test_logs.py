"""Log lines are JSON objects carrying the request id the proxy sent (casemgmt.logs)."""
from __future__ import annotations

import json
import logging

from casemgmt.logs import JsonFormatter


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(self.format(record)))


def capture(name: str) -> Lines:
    handler = Lines()
    logger = logging.getLogger(name)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return handler


def test_a_request_is_logged_with_the_proxys_request_id(app):
    lines = capture("casemgmt.request")
    try:
        response = app.test_client().get("/healthz", headers={"X-Request-ID": "0af7651916cd43dd8448eb211c80319c"})
    finally:
        logging.getLogger("casemgmt.request").removeHandler(lines)
    assert "X-Request-ID" not in response.headers  # nginx tells the client the id it made
    [line] = lines.lines
    assert line["request_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert (line["message"], line["method"], line["route"], line["status"]) == ("request", "GET", "/healthz", 200)
    assert line["level"] == "info" and line["logger"] == "casemgmt.request" and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00")


def test_a_request_without_a_good_id_gets_one_made_and_told(app):
    lines = capture("casemgmt.request")
    try:
        response = app.test_client().get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    finally:
        logging.getLogger("casemgmt.request").removeHandler(lines)
    made = response.headers["X-Request-ID"]
    assert len(made) == 32 and lines.lines[0]["request_id"] == made


def test_the_route_is_logged_not_the_path_with_its_ids(app, web, users):
    lines = capture("casemgmt.request")
    try:
        web.login("koordinator")
        web.get("/cases/987654")
    finally:
        logging.getLogger("casemgmt.request").removeHandler(lines)
    assert ("GET", "/cases/<int:case_id>", 404) in [(l["method"], l["route"], l["status"]) for l in lines.lines]
    assert not any("987654" in json.dumps(line) for line in lines.lines)


def test_an_exception_is_one_line_with_its_traceback():
    record = logging.LogRecord("casemgmt.x", logging.ERROR, __file__, 1, "failed %s", ("here",), None)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["message"] == "failed here" and "ValueError: boom" in line["exception"]
