"""Prometheus metrics (casemgmt.metrics): requests by route, the queue's depth, what is overdue."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from prometheus_client.parser import text_string_to_metric_families

from casemgmt import create_app
from casemgmt.extensions import db
from tests.factories import make_case


def samples(text: str) -> dict[tuple, float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_requests_by_route_and_read_what_is_overdue(app, users):
    case = make_case(users["village_worker"])
    case.due_at = datetime.now(timezone.utc) - timedelta(hours=1)
    make_case(users["village_worker"])  # not due yet
    db.session.commit()
    served = create_app({"ENV": "testing", "METRICS": True,
                         "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"]})
    client = served.test_client()
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert client.get("/cases/12345").status_code == 302  # to the log-in
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    found = samples(response.get_data(as_text=True))
    # Requests by route and status: the latency histogram's count.
    login = (("method", "GET"), ("status", "200"), ("url_rule", "/login"))
    assert found[("casemgmt_http_request_duration_seconds_count", login)] == 3
    assert found[("casemgmt_http_request_duration_seconds_bucket", tuple(sorted(login + (("le", "+Inf"),))))] == 3
    rule = (("method", "GET"), ("status", "302"), ("url_rule", "/cases/<int:case_id>"))
    assert found[("casemgmt_http_request_duration_seconds_count", rule)] == 1
    assert found[("casemgmt_http_request_total", (("method", "GET"), ("status", "200")))] == 3
    assert found[("casemgmt_overdue_cases", ())] == 1
    assert found[("casemgmt_overdue_referrals", ())] == 0
    assert ("casemgmt_job_queue_depth", ()) in found
    assert not any("12345" in str(key) for key in found)


def test_no_metrics_unless_asked_for(app):
    assert app.test_client().get("/metrics").status_code == 404
