"""GET /metrics in the app (real databases, no other process): who may scrape it, the figures it
reads from the database at each scrape, and every request timed under its URL rule; beat's
scheduler and the heartbeat it records. With real processes: tests/test_operations.py."""

import logging
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery import Celery
from flask.testing import FlaskClient

from shared.access.heartbeats import BEAT, last_heartbeat, record_heartbeat
from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.settings import Settings
from shared.models import Batch, Schedule, ScheduleRun
from tests.support.access import Setup
from tests.support.access import setup as setup  # the fixture, for pytest to find here
from tests.support.metrics import Samples, sample, samples
from tests.support.web import error_of, make_app
from worker.beat import HEARTBEAT_SECONDS, HeartbeatScheduler
from worker.celery_app import create_celery

BATCH_ROUTE = "/api/v1/batches/<id:batch_id>"


def scraped(client: FlaskClient, **kwargs: Any) -> Samples:
    response = client.get("/metrics", **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=")
    return samples(response.get_data(as_text=True))


def test_a_district_admin_scrapes_and_nobody_else(setup: Setup):
    anonymous = setup.app.test_client().get("/metrics")
    assert (anonymous.status_code, error_of(anonymous)["code"]) == (401, "unauthorized")
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="cpb"'
    for user in ("vera", "north"):
        refused = setup.api(user).get("/metrics")
        assert refused.status_code == 403, user
    viewer, _ = setup.signed_in("vera")
    assert viewer.get("/metrics").status_code == 403
    admin, _ = setup.signed_in("ada")
    assert sample(scraped(admin), "cpb_queue_depth") == 0
    assert sample(scraped(setup.api("ada")), "cpb_queue_depth") == 0
    assert [who for who, _, _ in setup.refusals()] == ["vera", "north", "vera"]


def test_open_metrics_need_no_credentials(sqlite_session_factory: SessionFactory, tmp_path: Path):
    client = make_app(sqlite_session_factory, tmp_path, metrics_open=True).test_client()
    assert sample(scraped(client), "cpb_queue_depth") == 0


def test_the_figures_are_read_at_each_scrape(setup: Setup):
    """The access district's batches (six student batches, one running; a census batch), and an
    undo, an import and two scheduled runs added here."""
    client = setup.api("ada")
    before = scraped(client)
    assert batches_counted(before) == {
        ("batch", "student", "succeeded"): 5,
        ("batch", "student", "running"): 1,
        ("batch", "census", "succeeded"): 1,
    }
    assert sample(before, "cpb_beat_last_tick_timestamp_seconds") is None
    tick = datetime(2025, 10, 15, 8, 30, tzinfo=UTC)
    with setup.factory.begin() as session:
        undo = added(session, kind="undo", mode="student", status="queued")
        failed = added(session, kind="import", mode=None, status="failed")
        schedule = Schedule(name="nightly", template={}, rule={}, owner_id=None)
        session.add(schedule)
        session.flush()
        for hours, status in ((1, "ran"), (2, "skipped")):
            due = tick - timedelta(hours=hours)
            session.add(ScheduleRun(schedule_id=schedule.id, due_at=due, status=status))
        record_heartbeat(session, BEAT, tick)
    after = scraped(client)
    assert (undo, failed) == (8, 9)
    assert batches_counted(after) == batches_counted(before) | {
        ("undo", "student", "queued"): 1,
        ("import", "", "failed"): 1,
    }
    assert len(series(after, "cpb_batches")) == 35  # every kind, mode and status, 0 included
    assert series(after, "cpb_imports") == {
        (("status", status),): 1 if status == "failed" else 0
        for status in ("queued", "running", "succeeded", "failed", "cancelled")
    }
    assert series(after, "cpb_schedule_runs") == {
        (("outcome", "ran"),): 1,
        (("outcome", "skipped"),): 1,
        (("outcome", "failed"),): 0,
    }
    assert sample(after, "cpb_beat_last_tick_timestamp_seconds") == tick.timestamp()
    assert sample(after, "cpb_queue_depth") == 0


def test_every_request_is_timed_under_its_rule(setup: Setup):
    client = setup.api("ada")
    batch = setup.ids["n_calendar"]
    before = scraped(client)
    for _ in range(3):
        assert client.get(f"/api/v1/batches/{batch}").status_code == 200
    assert client.get("/api/v1/batches/99").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert setup.api("vera").post(f"/api/v1/batches/{batch}/undo").status_code == 403
    after = scraped(client)
    timed = {
        ("GET", BATCH_ROUTE, "200"): 3,
        ("GET", BATCH_ROUTE, "404"): 1,
        ("GET", "unmatched", "404"): 1,
        ("POST", "/api/v1/batches/<id:batch_id>/undo", "403"): 1,
        ("GET", "/metrics", "200"): 1,  # the first scrape
    }
    assert {key: requests(after, *key) - requests(before, *key) for key in timed} == timed


def test_a_scrape_without_a_database_answers_the_rest(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/no/such/dir/cpb.sqlite3")
    try:
        client = make_app(make_session_factory(engine), tmp_path, metrics_open=True).test_client()
        found = scraped(client)
    finally:
        engine.dispose()
    assert series(found, "cpb_batches") == {}
    assert sample(found, "cpb_queue_depth") == 0


# --- beat's heartbeat ------------------------------------------------------------------------


def beat_app(database_url: str, tmp_path: Path) -> Celery:
    settings = Settings(database_url=database_url, broker_url=None, secret_key="test")
    celery = create_celery(settings)
    celery.conf.beat_schedule = {}  # nothing to send: only the heartbeat is written
    return celery


def test_beat_records_its_tick_at_most_every_few_seconds(
    session_factory: SessionFactory, tmp_path: Path
):
    url = session_factory.kw["bind"].url.render_as_string(hide_password=False)
    scheduler = HeartbeatScheduler(
        app=beat_app(url, tmp_path), schedule_filename=str(tmp_path / "schedule")
    )
    try:
        started = datetime.now(UTC)
        assert scheduler.tick() <= HEARTBEAT_SECONDS
        with session_factory() as session:
            first = last_heartbeat(session, BEAT)
        assert first is not None and started <= first <= datetime.now(UTC)
        scheduler.tick()  # at once: not written again
        with session_factory() as session:
            assert last_heartbeat(session, BEAT) == first
    finally:
        scheduler.close()


def test_beat_goes_on_when_the_database_is_down(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    url = f"sqlite:///{tmp_path}/no/such/dir/cpb.sqlite3"
    scheduler = HeartbeatScheduler(
        app=beat_app(url, tmp_path), schedule_filename=str(tmp_path / "schedule")
    )
    try:
        with caplog.at_level(logging.WARNING, logger="worker.beat"):
            assert scheduler.tick() <= HEARTBEAT_SECONDS
    finally:
        scheduler.close()
    assert [record.getMessage().split(" error=")[0] for record in caplog.records] == [
        "beat heartbeat not recorded"
    ]


# --- helpers -----------------------------------------------------------------------------------


def added(session: Any, kind: str, mode: str | None, status: str) -> int:
    batch = Batch(kind=kind, mode=mode, status=status, as_of=date(2025, 10, 15), changes={})
    session.add(batch)
    session.flush()
    return batch.id


def series(found: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for (sample_name, labels), value in found.items() if sample_name == name}


def batches_counted(found: Samples) -> dict[tuple[str, str, str], float]:
    """The batch series that are not 0: (kind, mode, status) -> count."""
    return {
        tuple(value for _, value in labels): count  # type: ignore[misc]
        for labels, count in series(found, "cpb_batches").items()
        if count
    }


def requests(found: Samples, method: str, route: str, status: str) -> float:
    count = "cpb_http_request_duration_seconds_count"
    return sample(found, count, method=method, route=route, status=status) or 0
