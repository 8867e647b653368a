"""GET /metrics: the Prometheus text format (docs/operations.md). Not part of the API (no
/api/v1, not in the OpenAPI document): a district admin's bearer token or login session, as
web/access.py rules, or nobody's when CPB_METRICS_OPEN=true.

What it shows:
- every request's latency by the rule it matched (`/api/v1/batches/<id:batch_id>`, never the
  raw path, so that the series stay few), its method and status;
- at each scrape, from the database and the broker: batches by kind, mode and status, imports by
  status, schedule runs by outcome (shared/schedules/figures.py), beat's last tick, and the
  messages waiting in the broker's queue. A part that cannot be read (the database or the broker
  is down) is left out, with a warning in the log; the rest is answered.

Under gunicorn each worker process keeps its own figures: web/gunicorn_conf.py gives them a
directory (PROMETHEUS_MULTIPROC_DIR, set before the workers import the app, since
prometheus_client picks where values live when it is imported), and a scrape, served by any one
worker, sums every worker's files. Without that variable (`cpb run`, tests) the process's own
registry is shown, which in `cpb run` holds its worker's figures too (worker/metrics.py).
"""

import logging
import os
import time
from collections.abc import Iterator
from typing import Final

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from shared.access.heartbeats import BEAT, last_heartbeat
from shared.core.db import read_session
from shared.core.vocabulary import BatchKind
from shared.schedules.figures import figures
from web.access import METRICS
from web.services import WebServices, services

log = logging.getLogger(__name__)

MULTIPROC_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED: Final = "unmatched"  # the route of a request no rule matched (a 404)
METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS: Final = Histogram(
    "cpb_http_request_duration_seconds",
    "How long the web took to answer, by method, URL rule and status",
    ["method", "route", "status"],
)


def register_metrics(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_observe)
    app.add_url_rule("/metrics", METRICS, metrics, methods=["GET"])


def metrics() -> Response:
    body = generate_latest(_recorded()) + generate_latest(SystemFigures(services()))
    return Response(body, content_type=CONTENT_TYPE_LATEST)


def _recorded() -> CollectorRegistry:
    if MULTIPROC_DIR not in os.environ:
        return REGISTRY
    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    return registry


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response: Response) -> Response:
    started = g.pop("metrics_started", None)
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(method, rule, str(response.status_code)).observe(
            time.perf_counter() - started
        )
    return response


class SystemFigures(Collector):
    """Read at each scrape: a few GROUP BYs over small tables, and one passive queue declare."""

    def __init__(self, web: WebServices) -> None:
        self.web = web

    def collect(self) -> Iterator[Metric]:
        yield from self._from_database()
        yield from self._from_broker()

    def _from_database(self) -> Iterator[Metric]:
        try:
            with read_session(self.web.session_factory) as session:
                found = figures(session)
                beat = last_heartbeat(session, BEAT)
        except Exception as error:  # the scrape still answers what it can
            log.warning("metrics=database state=down error=%r", error)
            return
        batches = GaugeMetricFamily(
            "cpb_batches",
            "Batches by kind (batch, undo, import), mode and status",
            labels=["kind", "mode", "status"],
        )
        imports = GaugeMetricFamily("cpb_imports", "Imports by status", labels=["status"])
        for (kind, mode, status), count in found.batches.items():
            batches.add_metric([kind.value, mode.value if mode else "", status.value], count)
            if kind == BatchKind.IMPORT:
                imports.add_metric([status.value], count)
        runs = GaugeMetricFamily(
            "cpb_schedule_runs", "Scheduled runs by outcome", labels=["outcome"]
        )
        for outcome, count in found.runs.items():
            runs.add_metric([outcome.value], count)
        yield from (batches, imports, runs)
        if beat is not None:
            yield GaugeMetricFamily(
                "cpb_beat_last_tick_timestamp_seconds",
                "When beat last recorded its heartbeat (Unix time)",
                value=beat.timestamp(),
            )

    def _from_broker(self) -> Iterator[Metric]:
        try:
            depth = self.web.queue_depth()
        except Exception as error:
            log.warning("metrics=broker state=down error=%r", error)
            return
        yield GaugeMetricFamily(
            "cpb_queue_depth", "Messages waiting in the broker's queue (cpb)", value=depth
        )
