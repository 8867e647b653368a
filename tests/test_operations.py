"""Health and metrics with real processes (docs/operations.md): a Celery worker (two pool
processes) and beat on PostgreSQL and Redis, and gunicorn with two workers."""

import os
import signal
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from prometheus_client.multiprocess import MultiProcessCollector

from shared.core.db import SessionFactory
from shared.core.settings import Settings
from tests.support.fuzz import gunicorn
from tests.support.metrics import empty_queue, sample, samples, scrape
from tests.support.processes import (
    background_process,
    celery_beat,
    celery_worker,
    celery_worker_command,
    log_text,
    wait_until,
)
from tests.support.services import free_port
from tests.support.stack import (
    CHANGES,
    FIRST,
    FIRST_COUNTS,
    finished,
    service_env,
    submit,
)
from tests.support.web import add_token, add_user, bearer
from web import create_app

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

BODY = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26", "schoolId": "S1"},
    "asOf": "2025-10-15",
    "changes": CHANGES,
}
UP = {"database": "ok", "broker": "ok"}
WORKER_READY = r'\S+@\S+ ready\.(?:\s*$|")'
LIVE = "/api/v1/health/live"
KINDS = ("apply", "undo", "import")
TASKS = ("plan", "chunk")


def report(client: FlaskClient, path: str) -> tuple[int, Any]:
    response = client.get(path)
    return response.status_code, response.get_json()


def settled(client: FlaskClient, path: str) -> tuple[int, Any] | None:
    """The report once beat has ticked and nothing waits in the queue."""
    status, body = report(client, path)
    return (status, body) if body["beatLastTick"] and body["queueDepth"] == 0 else None


def test_health_and_metrics_with_a_real_worker_and_beat(
    stack_env: dict[str, str], pg_session_factory: SessionFactory, redis_url: str
):
    empty_queue(redis_url)
    port = free_port()
    env = stack_env | {"CPB_WORKER_METRICS": f"127.0.0.1:{port}"}
    headers = bearer(add_token(pg_session_factory, "ada"))
    client = create_app(Settings.from_env(env), session_factory=pg_session_factory).test_client()

    batch_id = submit(client, headers, BODY)  # no worker yet: its plan waits in the queue
    waiting = UP | {"workers": 0, "beatLastTick": None, "queueDepth": 1}
    assert report(client, "/api/v1/health") == (200, waiting)
    assert report(client, "/api/v1/health/ready") == (503, waiting)
    assert report(client, LIVE) == (200, {"status": "ok"})

    beat_started = datetime.now(UTC)
    with celery_worker(env) as worker:
        with celery_beat(env):
            batch = finished(client, headers, batch_id)
            assert (batch["status"], batch["result"]["counts"]) == ("succeeded", FIRST_COUNTS)
            status, body = wait_until(
                lambda: settled(client, "/api/v1/health/ready"),
                timeout=20,
                message="beat's tick and an empty queue",
            )
            beat_tick = datetime.fromisoformat(body.pop("beatLastTick"))
            assert (status, body) == (200, UP | {"workers": 1, "queueDepth": 0})
            assert beat_started <= beat_tick <= datetime.now(UTC)
            # One report right after another still hears the worker (a ping's replies are not
            # taken by the one before).
            assert [report(client, "/api/v1/health")[1]["workers"] for _ in range(4)] == [1] * 4
        # Beat stopped: nothing more is sent, and the worker empties the queue.
        wait_until(lambda: settled(client, "/api/v1/health"), timeout=20, message="empty queue")

        # A second worker: the metrics' port is the first one's, so it serves none, and runs.
        second = [*celery_worker_command(concurrency=1), "--hostname=second@%h"]
        with background_process("second worker", second, env, ready=WORKER_READY) as other:
            assert report(client, "/api/v1/health")[1]["workers"] == 2
            assert "worker metrics not served" in log_text(other)
        assert "worker metrics not served" not in log_text(worker)

        status, kind, text = scrape(f"http://127.0.0.1:{port}/metrics")
        served = samples(text)
        web = client.get("/metrics", headers=headers)

    assert (status, kind.split(";")[0]) == (200, "text/plain")
    chunks = {k: sample(served, "cpb_chunk_duration_seconds_count", kind=k) for k in KINDS}
    changed = {k: sample(served, "cpb_values_changed_total", kind=k) for k in KINDS}
    assert chunks == {"apply": 4, "undo": 0, "import": 0}  # chunks of one target, four targets
    assert changed == {"apply": sum(FIRST.values()), "undo": 0, "import": 0}
    assert sample(served, "cpb_plan_duration_seconds_count") == 1
    resent = {task: sample(served, "cpb_sweeper_resent_total", task=task) for task in TASKS}
    assert resent == {"plan": 0, "chunk": 0}  # nothing was lost
    assert sample(served, "cpb_batches_failed_total") == 0

    assert web.status_code == 200
    figures = samples(web.get_data(as_text=True))
    batches = {labels: value for (name, labels), value in figures.items() if name == "cpb_batches"}
    succeeded = (("kind", "batch"), ("mode", "studentContact"), ("status", "succeeded"))
    assert {labels: value for labels, value in batches.items() if value} == {succeeded: 1}
    assert len(batches) == 35  # (batch and undo) x 3 modes x 5 statuses, import x 5 statuses
    assert sample(figures, "cpb_imports", status="succeeded") == 0
    assert sample(figures, "cpb_schedule_runs", outcome="ran") == 0
    assert sample(figures, "cpb_queue_depth") == 0
    last_tick = sample(figures, "cpb_beat_last_tick_timestamp_seconds")
    assert last_tick is not None and beat_started.timestamp() <= last_tick


def test_metrics_under_gunicorn_sum_what_every_worker_served(
    pg_session_factory: SessionFactory, pg_url: str, redis_url: str, tmp_path: Path
):
    """Two gunicorn workers: /metrics, answered by either, counts the requests both served, and
    still does once one of them died. Their files are in a directory gunicorn made (in TMPDIR)
    and removes when it stops."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = service_env(pg_url, redis_url, tmp_path) | {"TMPDIR": str(scratch)}
    add_user(pg_session_factory, "ada", "district_admin")
    token = add_token(pg_session_factory, "ada")
    with gunicorn(env, workers=2) as base:
        [directory] = scratch.glob("cpb-web-metrics-*")
        sent = 0
        with ThreadPoolExecutor(max_workers=8) as pool:
            while len(live_by_worker(directory)) < 2 and sent < 400:
                statuses = list(pool.map(lambda _: scrape(base + LIVE)[0], range(8)))
                assert statuses == [200] * 8
                sent += 8
        by_worker = live_by_worker(directory)
        assert (len(by_worker), sum(by_worker.values())) == (2, sent)

        assert scrape(base + "/metrics")[0] == 401
        status, _, text = scrape(base + "/metrics", token)
        assert (status, live_requests(samples(text))) == (200, sent)

        os.kill(min(by_worker), signal.SIGKILL)  # gunicorn starts another; its counts stay
        status, _, text = scrape(base + "/metrics", token)
        assert (status, live_requests(samples(text))) == (200, sent)
    assert list(scratch.glob("cpb-web-metrics-*")) == []


def test_an_operators_metrics_directory_is_emptied_at_start(
    pg_session_factory: SessionFactory, pg_url: str, redis_url: str, tmp_path: Path
):
    directory = tmp_path / "metrics"
    directory.mkdir()
    stale = directory / "histogram_999999.db"
    stale.write_bytes(b"an earlier run's figures")
    env = service_env(pg_url, redis_url, tmp_path) | {
        "PROMETHEUS_MULTIPROC_DIR": str(directory),
        "CPB_METRICS_OPEN": "true",
    }
    with gunicorn(env, workers=1) as base:
        assert not stale.exists()
        assert scrape(base + LIVE)[0] == 200
        status, _, text = scrape(base + "/metrics")
        assert (status, live_requests(samples(text))) == (200, 1)
        assert list(live_by_worker(directory).values()) == [1]
    assert directory.is_dir()  # the operator's


def live_requests(found: dict[Any, float]) -> float | None:
    labels = {"method": "GET", "route": LIVE, "status": "200"}
    return sample(found, "cpb_http_request_duration_seconds_count", **labels)


def live_by_worker(directory: Path) -> dict[int, float]:
    """How many GETs of the live form each gunicorn worker recorded, from its own file."""
    counted = {}
    for path in directory.glob("histogram_*.db"):
        merged = MultiProcessCollector.merge([str(path)], accumulate=True)
        found = samples_of(merged)
        if (count := live_requests(found)) is not None:
            counted[int(path.stem.rsplit("_", 1)[1])] = count
    return counted


def samples_of(families: Any) -> dict[Any, float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families
        for s in family.samples
    }
