"""The worker's own metrics (docs/operations.md), recorded by the tasks through the functions
below, and served over HTTP by the worker's main process.

Served by `celery -A worker worker` (the app `serve` is given, from worker/celery_app.py) at
CPB_WORKER_METRICS (default 127.0.0.1:9540; `off`: not served). The tasks run in the pool's
child processes, so the figures are kept with prometheus_client's multiprocess mode: when the
worker starts (Celery's `celeryd_after_setup`, in the main process once its logging is set up
and before the pool forks its children), a fresh private directory becomes
PROMETHEUS_MULTIPROC_DIR, and prometheus_client's value class is switched to the one that writes
there (it chose its class from that variable when it was imported, before this ran). Each child
writes a file of its own; the server sums the files, those of children already replaced
included (a counter never goes back). A port already taken is a warning, and the worker runs on
without serving.

`cpb run` serves nothing here: its worker runs in the web's process, on an app of its own, and
its figures stay in the process's registry, where the web's /metrics shows them. The metrics are
made once the worker chose where they are kept (or on first use, where nothing serves them).
"""

import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from typing import Any, Final
from wsgiref.simple_server import WSGIServer

from celery import Celery, signals
from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server, values
from prometheus_client.multiprocess import MultiProcessCollector

from worker.runtime import settings_of

log = logging.getLogger(__name__)

MULTIPROC_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
# From a chunk of a few rows (50 ms) to one near the task time limit (10 min and more).
CHUNK_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
PLAN_BUCKETS: Final = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
CHUNK_KINDS: Final = ("apply", "undo", "import")
SWEEPER_TASKS: Final = ("plan", "chunk")
OUTCOMES: Final = ("ran", "failed", "skipped", "error")


def chunk_finished(kind: str, seconds: float, changed: int) -> None:
    """A chunk of kind "apply", "undo" or "import" took `seconds` and changed `changed` values."""
    metrics = _metrics()
    metrics.chunk_seconds.labels(kind).observe(seconds)
    metrics.values_changed.labels(kind).inc(changed)


def plan_finished(seconds: float) -> None:
    _metrics().plan_seconds.observe(seconds)


def sweep_finished(resent_plans: int, resent_chunks: int, finalized: int) -> None:
    metrics = _metrics()
    metrics.sweeps.inc()
    metrics.sweeper_resent.labels("plan").inc(resent_plans)
    metrics.sweeper_resent.labels("chunk").inc(resent_chunks)
    if resent_plans or resent_chunks or finalized:
        metrics.sweeper_recoveries.inc()


def schedules_ticked(ran: int, failed: int, skipped: int, errors: int) -> None:
    metrics = _metrics()
    metrics.schedule_ticks.inc()
    for outcome, count in zip(OUTCOMES, (ran, failed, skipped, errors), strict=True):
        metrics.schedule_outcomes.labels(outcome).inc(count)


def batch_failed() -> None:
    _metrics().batches_failed.inc()


@dataclass(frozen=True)
class _Metrics:
    chunk_seconds: Histogram
    values_changed: Counter
    plan_seconds: Histogram
    sweeps: Counter
    sweeper_resent: Counter
    sweeper_recoveries: Counter
    schedule_ticks: Counter
    schedule_outcomes: Counter
    batches_failed: Counter


_made: list[_Metrics] = []
_making = threading.Lock()


def _metrics() -> _Metrics:
    with _making:
        if not _made:
            _made.append(_make())
        return _made[0]


def _make() -> _Metrics:
    made = _Metrics(
        chunk_seconds=Histogram(
            "cpb_chunk_duration_seconds",
            "How long a chunk took to apply, undo or import",
            ["kind"],
            buckets=CHUNK_BUCKETS,
        ),
        values_changed=Counter(
            "cpb_values_changed", "Preference values changed by chunks", ["kind"]
        ),
        plan_seconds=Histogram(
            "cpb_plan_duration_seconds", "How long planning a batch took", buckets=PLAN_BUCKETS
        ),
        sweeps=Counter("cpb_sweeps", "Sweeps run"),
        sweeper_resent=Counter(
            "cpb_sweeper_resent", "Plans and chunks the sweeper sent again", ["task"]
        ),
        sweeper_recoveries=Counter(
            "cpb_sweeper_recoveries", "Sweeps that sent work again or finalized a batch"
        ),
        schedule_ticks=Counter("cpb_schedule_ticks", "Ticks of the schedules run"),
        schedule_outcomes=Counter(
            "cpb_schedule_run_outcomes",
            "Scheduled due times the ticks recorded, by outcome",
            ["outcome"],
        ),
        batches_failed=Counter("cpb_batches_failed", "Batches that failed"),
    )
    for kind in CHUNK_KINDS:  # every series from the start, at 0
        made.chunk_seconds.labels(kind)
        made.values_changed.labels(kind)
    for task in SWEEPER_TASKS:
        made.sweeper_resent.labels(task)
    for outcome in OUTCOMES:
        made.schedule_outcomes.labels(outcome)
    return made


# --- serving, from the worker's main process ----------------------------------------------------


@dataclass(frozen=True)
class _Served:
    server: WSGIServer
    directory: str
    pid: int


_served: list[_Served] = []


def serve(app: Celery) -> None:
    """When a worker of `app` starts, its metrics are served (see above)."""

    def start(instance: Any, **_: Any) -> None:
        if instance.app is app:
            _start(settings_of(app).worker_metrics_address)

    # Held by the app, so the signal (which holds it weakly) forgets it with the app.
    app.cpb_serve_metrics = start
    signals.celeryd_after_setup.connect(start)
    signals.worker_process_init.connect(_close_in_child)
    signals.worker_shutdown.connect(_stop)


def _start(address: str | None) -> None:
    if address is None or _served:
        return
    host, _, port = address.rpartition(":")
    directory = tempfile.mkdtemp(prefix="cpb-worker-metrics-")
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=directory)
    try:
        server, _thread = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    except OSError as error:
        shutil.rmtree(directory, ignore_errors=True)
        log.warning("worker metrics not served address=%s error=%r", address, error)
        return
    os.environ[MULTIPROC_DIR] = directory
    values.ValueClass = values.MultiProcessValue()
    _served.append(_Served(server, directory, os.getpid()))
    _metrics()  # every series shows from the start, at 0 (the main process's file)
    log.info("worker metrics served at http://%s/metrics", address)


def _close_in_child(**_: Any) -> None:
    """A pool child, forked after the server started, closes its copy of the listening socket
    (only the main process serves; the child must not keep the port once the main is gone)."""
    for served in _served:
        if served.pid != os.getpid():
            served.server.socket.close()


def _stop(**_: Any) -> None:
    for served in _served:
        if served.pid == os.getpid():
            served.server.shutdown()
            served.server.server_close()
            shutil.rmtree(served.directory, ignore_errors=True)
