"""Schedules on the real stack: `celery worker` and two `celery -A worker beat` processes on
PostgreSQL and Redis, every-minute schedules, and the wall clock (about three minutes).

One timeline tests it all:
1. Beat runs, then stops before the first due minute D1; it stays down across D1 and D2.
2. Both beats start 40 s after D2. Of each schedule's two missed runs the latest runs if within
   its catch-up window (3 minutes), else both are skipped (a window of 36 s); with two beats
   ticking, each catch-up is one batch.
3. At D3 both beats tick live: one batch per schedule. The worker runs one task at a time, so
   one tick claims the runs in schedule order; it is SIGKILLed at the last schedule's claim,
   after the others' claims have committed and before it sends a single plan: the sweeper
   sends them, and the next tick claims the last one. The schedule whose owner was made a
   viewer fails with its reason; the others run.

Ticks that really run at the same time are tested in tests/test_schedule_tick.py.
"""

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from shared.access.users import create_user
from shared.core.contract import parse
from shared.core.db import SessionFactory
from shared.core.vocabulary import Role
from shared.models import Batch, ScheduleRun, User
from shared.schedules.request import ScheduleRequest
from shared.schedules.service import create_schedule
from tests.support.faults import failpoint, kill
from tests.support.processes import celery_beat, celery_worker, log_text, wait_until
from tests.support.stack import FINAL

pytestmark = pytest.mark.postgres

ZONE = ZoneInfo("America/Chicago")
ENV = {
    "CPB_TIMEZONE": "America/Chicago",
    "CPB_SCHEDULE_TICK_SECONDS": "2",
    "CPB_SWEEP_SECONDS": "1",
    "CPB_CHUNK_LEASE_SECONDS": "3",
}
TEMPLATE = {
    "mode": "studentContact",
    "scope": {"calendarId": "C1"},
    "changes": {"email": {"emergency": "on"}},
}
# name -> (owner, catch-up hours); created in this order, so ids (and the tick's order) follow.
SCHEDULES = {
    "every": ("ada", 0.05),
    "short": ("ada", 0.01),
    "viewer": ("vic", 6.0),
    "claimed": ("ada", 6.0),
    "blocker": ("ada", 6.0),
}
VIEWER_REASON = (
    "its owner 'vic' is a viewer now, and a viewer may not run batches; an admin must save its "
    "template again to own it"
)


def test_due_runs_are_claimed_once_caught_up_and_survive_a_killed_claimer(
    stack_env: dict[str, str], pg_session_factory: SessionFactory, pg_url: str
):
    env = stack_env | ENV
    with celery_worker(env, concurrency=1) as worker:
        with celery_beat(env):
            ids = _make_schedules(pg_session_factory)
            first_due = _next_minute(datetime.now(UTC))
            time.sleep(1)
        d1, d2, d3 = (first_due + timedelta(minutes=n) for n in range(3))
        _sleep_until(d2 + timedelta(seconds=40))
        with celery_beat(env) as beat_one, celery_beat(env) as beat_two:
            wait_until(lambda: len(_runs(pg_session_factory)) == 10, timeout=30)
            caught_up = _runs(pg_session_factory)

            blocked = f"NEW.schedule_id = {ids['blocker']} AND NEW.due_at >= '{d3.isoformat()}'"
            with failpoint(pg_url, "schedule_runs", "INSERT", blocked) as stop:
                claimer = stop.waiter()
                kill(claimer.pid)
                stop.release()
            wait_until(lambda: len(_runs(pg_session_factory)) == 15, timeout=60)
            wait_until(lambda: _all_final(pg_session_factory), timeout=90)
            beat_logs = [log_text(beat) for beat in (beat_one, beat_two)]

    assert all("Sending due task schedules (schedules.tick)" in log for log in beat_logs)

    assert claimer.pid != worker.pid
    runs = _runs(pg_session_factory)
    assert caught_up == [run for run in runs if run[1] != d3]
    assert [(name, due, status) for name, due, status, _ in runs] == [
        (name, due, status)
        for name, statuses in {
            "every": ("skipped", "ran", "ran"),
            "short": ("skipped", "skipped", "ran"),
            "viewer": ("skipped", "failed", "failed"),
            "claimed": ("skipped", "ran", "ran"),
            "blocker": ("skipped", "ran", "ran"),
        }.items()
        for due, status in zip((d1, d2, d3), statuses, strict=True)
    ]
    reasons = {(name, due): reason for name, due, _, reason in runs}
    assert reasons[("viewer", d3)] == VIEWER_REASON
    assert reasons[("short", d2)].startswith("missed by ")
    assert reasons[("short", d2)].endswith(", more than the catch-up window of 36 s")
    assert reasons[("every", d1)] == (
        "missed: a later run of the same schedule "
        f"({d2.astimezone(ZONE):%Y-%m-%d %H:%M %Z}) was due by the time this one could run"
    )
    with pg_session_factory() as session:
        batches = session.execute(select(Batch.id, Batch.status, Batch.as_of)).all()
        linked = session.scalars(
            select(ScheduleRun.batch_id).where(ScheduleRun.batch_id.is_not(None))
        )
        assert sorted(linked) == sorted(batch_id for batch_id, _, _ in batches)
    assert len(batches) == 7
    assert {str(status) for _, status, _ in batches} == {"succeeded"}
    assert {as_of for _, _, as_of in batches} == {
        d2.astimezone(ZONE).date(),
        d3.astimezone(ZONE).date(),
    }


def _make_schedules(factory: SessionFactory) -> dict[str, int]:
    """The five schedules, made while beat runs, at least 15 s before the next minute."""
    if (_next_minute(datetime.now(UTC)) - datetime.now(UTC)).total_seconds() < 15:
        _sleep_until(_next_minute(datetime.now(UTC)) + timedelta(seconds=1))
    ids = {}
    with factory.begin() as session:
        create_user(session, "vic", Role.DISTRICT_ADMIN, None, [])
        for name, (owner, hours) in SCHEDULES.items():
            user = session.scalars(select(User).where(User.username == owner)).one()
            body = {"name": name, "template": TEMPLATE, "rule": {"cron": "* * * * *"}}
            request = parse(ScheduleRequest, body | {"catchUpHours": hours})
            ids[name] = create_schedule(session, request, user=user, now=datetime.now(UTC)).id
        session.scalars(select(User).where(User.username == "vic")).one().role = Role.VIEWER
    return ids


def _runs(factory: SessionFactory) -> list[tuple[str, datetime, str, str | None]]:
    with factory() as session:
        rows = session.execute(
            select(
                ScheduleRun.schedule_id, ScheduleRun.due_at, ScheduleRun.status, ScheduleRun.reason
            ).order_by(ScheduleRun.schedule_id, ScheduleRun.due_at)
        ).all()
    names = list(SCHEDULES)
    return [
        (names[schedule_id - 1], due, str(status), reason)
        for schedule_id, due, status, reason in rows
    ]


def _all_final(factory: SessionFactory) -> bool:
    with factory() as session:
        waiting = session.scalar(
            select(func.count()).select_from(Batch).where(Batch.status.not_in(FINAL))
        )
    return waiting == 0


def _next_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _sleep_until(moment: datetime) -> None:
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()))
