"""Prometheus metrics at /metrics (prometheus-flask-exporter): requests and their latencies by
route, and, read when scraped, the background queue's depth and what is overdue.

Each app server is scraped on its own port (nginx does not pass /metrics on). Under gunicorn,
PROMETHEUS_MULTIPROC_DIR (deploy/gunicorn.conf.py) gathers the counts of all its processes."""
from __future__ import annotations

import os

from prometheus_client.core import GaugeMetricFamily

PREFIX = "casemgmt"


class StateCollector:
    """Gauges read from the queue and the database at scrape time (in the /metrics request)."""

    def describe(self):
        return [GaugeMetricFamily(f"{PREFIX}_job_queue_depth", "Background jobs waiting in the queue"),
                GaugeMetricFamily(f"{PREFIX}_overdue_cases", "Open cases past their stage deadline"),
                GaugeMetricFamily(f"{PREFIX}_overdue_referrals", "Referrals not answered by their respond-by time")]

    def collect(self):
        from sqlalchemy import func, select

        from casemgmt.cases.models import Case
        from casemgmt.dbtypes import utcnow
        from casemgmt.extensions import db
        from casemgmt.referrals.models import Referral

        depth, cases, referrals = self.describe()
        try:
            from casemgmt import jobs

            depth.add_metric([], jobs.huey.pending_count())
            yield depth
        except Exception:  # the queue away: the gauge is left out, the scrape goes on
            pass
        now = utcnow()
        try:
            cases.add_metric([], db.session.scalar(select(func.count(Case.id)).where(Case.overdue_at(now))))
            referrals.add_metric([], db.session.scalar(select(func.count(Referral.id)).where(
                Referral.status == "sent", Referral.respond_by < now)))
            yield cases
            yield referrals
        except Exception:
            db.session.rollback()


def init_app(app) -> None:
    if not app.config.get("METRICS"):
        return
    from prometheus_client import CollectorRegistry

    options = {"group_by": "url_rule", "defaults_prefix": PREFIX,
               "excluded_paths": ["^/static/", "^/healthz$", "^/readyz$"]}
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client.exposition import choose_encoder
        from prometheus_client.multiprocess import MultiProcessCollector
        from prometheus_flask_exporter.multiprocess import GunicornInternalPrometheusMetrics

        class Metrics(GunicornInternalPrometheusMetrics):
            def generate_metrics(self, accept_header=None, names=None):
                # Each scrape: every process's counts from the directory, and the state gauges.
                registry = CollectorRegistry()
                MultiProcessCollector(registry)
                registry.register(StateCollector())
                encode, content_type = choose_encoder(accept_header)
                return encode(registry).decode("utf-8"), content_type

        metrics = Metrics(app, **options)
    else:
        from prometheus_flask_exporter import PrometheusMetrics

        metrics = PrometheusMetrics(app, registry=CollectorRegistry(), **options)
        metrics.registry.register(StateCollector())
    app.extensions["metrics"] = metrics
