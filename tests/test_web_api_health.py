"""GET /api/v1/health: the database and the broker reported, with the app's own checks and with
the default ones, and the default enqueue, which sends a task by name (a Celery client on real
Redis). The workers, beat and the queue with real processes: tests/test_operations.py."""

import base64
import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from celery import Celery

from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.settings import Settings
from tests.support.metrics import empty_queue
from tests.support.services import free_port
from tests.support.web import make_app
from web import create_app
from web.celery_client import CeleryClient
from worker.celery_app import create_celery

# No worker answers on the in-memory transport (cpb run counts its own: tests/test_embedded.py),
# no beat has ticked, and nothing waits in the queue.
IDLE = {"workers": 0, "beatLastTick": None, "queueDepth": 0}
BROKER_DOWN = {"workers": 0, "beatLastTick": None, "queueDepth": None}


def broker_down() -> None:
    raise ConnectionRefusedError("[Errno 111] Connection refused")


@pytest.mark.parametrize(
    ("broker_check", "status", "body"),
    [
        (lambda: None, 200, {"database": "ok", "broker": "ok"} | IDLE),
        (broker_down, 503, {"database": "ok", "broker": "down"} | BROKER_DOWN),
    ],
)
def test_health_reports_the_broker(
    sqlite_session_factory: SessionFactory,
    tmp_path: Path,
    broker_check: Callable[[], None],
    status: int,
    body: dict[str, str],
):
    client = make_app(sqlite_session_factory, tmp_path, broker_check=broker_check).test_client()
    response = client.get("/api/v1/health")  # no credentials needed
    assert (response.status_code, response.get_json()) == (status, body)


def test_health_reports_the_database(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/no/such/dir/cpb.sqlite3")
    try:
        client = make_app(make_session_factory(engine), tmp_path).test_client()
        response = client.get("/api/v1/health")
    finally:
        engine.dispose()
    assert (response.status_code, response.get_json()) == (
        503,
        {"database": "down", "broker": "ok"} | IDLE,
    )


def test_the_live_form_touches_nothing(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/no/such/dir/cpb.sqlite3")
    try:
        client = make_app(make_session_factory(engine), tmp_path, broker_down).test_client()
        live = client.get("/api/v1/health/live")
    finally:
        engine.dispose()
    assert (live.status_code, live.get_json()) == (200, {"status": "ok"})


@pytest.mark.parametrize(("workers", "status"), [(0, 503), (2, 200)])
def test_ready_needs_a_worker(
    sqlite_session_factory: SessionFactory, tmp_path: Path, workers: int, status: int
):
    app = create_app(
        settings_with_broker(tmp_path, None),
        session_factory=sqlite_session_factory,
        worker_probe=lambda: workers,
    )
    client = app.test_client()
    ready, report = client.get("/api/v1/health/ready"), client.get("/api/v1/health")
    body = {"database": "ok", "broker": "ok"} | IDLE | {"workers": workers}
    assert (ready.status_code, ready.get_json()) == (status, body)
    assert (report.status_code, report.get_json()) == (200, body)


# --- the default enqueue and broker check (a Celery client on real Redis) --------------------


def settings_with_broker(tmp_path: Path, broker_url: str | None) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/cpb.sqlite3",
        broker_url=broker_url,
        secret_key="test",
        instance_path=tmp_path,
    )


def test_default_health_check_of_the_embedded_broker(tmp_path: Path):
    app = create_app(settings_with_broker(tmp_path, None))  # Celery's in-memory transport
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        200,
        {"database": "ok", "broker": "ok"} | IDLE,
    )


@pytest.mark.redis
def test_default_health_checks_use_the_configured_broker(tmp_path: Path, redis_url: str):
    empty_queue(redis_url)
    app = create_app(settings_with_broker(tmp_path, redis_url))
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        200,
        {"database": "ok", "broker": "ok"} | IDLE,
    )

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(settings_with_broker(tmp_path, dead))
    started = time.monotonic()
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        503,
        {"database": "ok", "broker": "down"} | BROKER_DOWN,
    )
    assert time.monotonic() - started < 10


@pytest.mark.redis
def test_the_default_enqueue_sends_the_task_by_name(tmp_path: Path, redis_url: str):
    queue = f"cpb-web-test-{os.getpid()}"

    def make_celery() -> Celery:
        celery = create_celery(settings_with_broker(tmp_path, redis_url))
        celery.conf.task_default_queue = queue  # no worker listens here
        return celery

    client = CeleryClient(make_celery)
    connection = redis.Redis.from_url(redis_url)
    try:
        client.enqueue("batches.plan", 41)
        [raw] = connection.lrange(queue, 0, -1)
    finally:
        connection.delete(queue)
        connection.close()
    message = json.loads(raw)
    assert message["headers"]["task"] == "batches.plan"
    assert json.loads(base64.b64decode(message["body"]))[0] == [41]
