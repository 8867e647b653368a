"""GET /api/v1/health: the database and the broker reported, with the app's own checks and with
the default ones, and the default enqueue, which sends a task by name (a Celery client on real
Redis)."""

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
from tests.support.services import free_port
from tests.support.web import make_app
from web import create_app
from web.celery_client import CeleryClient
from worker.celery_app import create_celery


def broker_down() -> None:
    raise ConnectionRefusedError("[Errno 111] Connection refused")


@pytest.mark.parametrize(
    ("broker_check", "status", "body"),
    [
        (lambda: None, 200, {"database": "ok", "broker": "ok"}),
        (broker_down, 503, {"database": "ok", "broker": "down"}),
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
        {"database": "down", "broker": "ok"},
    )


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
        {"database": "ok", "broker": "ok"},
    )


@pytest.mark.redis
def test_default_health_checks_use_the_configured_broker(tmp_path: Path, redis_url: str):
    app = create_app(settings_with_broker(tmp_path, redis_url))
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        200,
        {"database": "ok", "broker": "ok"},
    )

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(settings_with_broker(tmp_path, dead))
    started = time.monotonic()
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        503,
        {"database": "ok", "broker": "down"},
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
