"""The timeline of tests/test_schedule_processes.py: every-minute schedules on the real stack
(`celery worker` and two `celery beat` on PostgreSQL and Redis) and the wall clock, about three
minutes of mostly waiting.

It runs in a thread of its own, on a database and a Redis database of its own, from the end of
collection while the other tests run (`start`, called by conftest.py); the test, collected last,
only waits for its record and checks it. With CPB_TEST_REDIS_URL set, the session's Redis would
be shared, so the timeline starts with the test instead.

1. Beat runs, then stops before the first due minute D1; it stays down across D1 and D2.
2. Both beats start 38 s after D2. Of each schedule's two missed runs the latest runs if within
   its catch-up window (3 minutes), else both are skipped (a window of 36 s); with two beats
   ticking, each catch-up is one batch.
3. At D3 both beats tick live: one batch per schedule. The worker runs one task at a time, so
   one tick claims the runs in schedule order; it is SIGKILLed at the last schedule's claim,
   after the others' claims have committed and before it sends a single plan: the sweeper
   sends them, and the next tick claims the last one. The schedule whose owner was made a
   viewer fails with its reason; the others run.
"""

import contextlib
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from shared.access.users import create_user
from shared.core.contract import parse
from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.vocabulary import Role
from shared.models import Batch, ScheduleRun, User
from shared.schedules.request import ScheduleRequest
from shared.schedules.service import create_schedule
from tests.support import services
from tests.support.faults import failpoint, kill
from tests.support.processes import celery_beat, celery_worker, log_text, wait_until
from tests.support.stack import FINAL, cpb, stack_env

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
# name -> (owner, catch-up hours); made in this order, so ids (and the tick's order) follow.
SCHEDULES = {
    "every": ("ada", 0.05),
    "short": ("ada", 0.01),
    "viewer": ("vic", 6.0),
    "claimed": ("ada", 6.0),
    "blocker": ("ada", 6.0),
}
Run = tuple[str, datetime, str, str | None]  # schedule name, due time, status, reason


@dataclass
class Record:
    """What the timeline saw."""

    due: tuple[datetime, datetime, datetime] | None = None
    caught_up: list[Run] | None = None  # the runs once the beats were back, before D3
    runs: list[Run] | None = None
    batches: list[tuple[int, str, Any]] | None = None  # id, status, as-of date
    linked: list[int] | None = None  # the batch ids the runs name
    beat_logs: list[str] | None = None
    killed: int | None = None  # the pid of the claimer killed
    worker: int | None = None
    error: BaseException | None = None


_record = Record()
_thread: threading.Thread | None = None


def start() -> None:
    """Starts the timeline in the background, unless the session's Redis would be shared."""
    global _thread
    if _thread is None and not os.environ.get("CPB_TEST_REDIS_URL"):
        _thread = threading.Thread(target=_run, name="schedule timeline", daemon=True)
        _thread.start()


def record(timeout: float = 600.0) -> Record:
    """The timeline's record, once it is over (it runs now if it was not started)."""
    global _thread
    if _thread is None:
        _run()
    else:
        _thread.join(timeout)
        assert not _thread.is_alive(), "the schedule timeline is still running"
    return _record


def _run() -> None:
    try:
        with contextlib.ExitStack() as stack:
            pg_url = stack.enter_context(services.postgres_database())
            redis_url = stack.enter_context(services.redis_database())
            scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            # Migrated by the command line: Alembic's context is global to a process, and the
            # tests in the foreground migrate their own databases meanwhile.
            cpb({**os.environ, "DATABASE_URL": pg_url}, "db", "upgrade")
            engine = make_engine(pg_url)
            stack.callback(engine.dispose)
            env = stack_env(pg_url, redis_url, scratch) | ENV
            _timeline(env, make_session_factory(engine), pg_url)
    except BaseException as error:  # the test reports it
        _record.error = error


def _timeline(env: dict[str, str], factory: SessionFactory, pg_url: str) -> None:
    with celery_worker(env, concurrency=1) as worker:
        _record.worker = worker.pid
        with celery_beat(env):
            ids = _make_schedules(factory)
            first_due = _next_minute(datetime.now(UTC))
            time.sleep(1)
        d1, d2, d3 = _record.due = tuple(first_due + timedelta(minutes=n) for n in range(3))
        _sleep_until(d2 + timedelta(seconds=38))
        with celery_beat(env) as beat_one, celery_beat(env) as beat_two:
            wait_until(lambda: len(runs_of(factory)) == 10, timeout=90)
            _record.caught_up = runs_of(factory)
            blocked = f"NEW.schedule_id = {ids['blocker']} AND NEW.due_at >= '{d3.isoformat()}'"
            with failpoint(pg_url, "schedule_runs", "INSERT", blocked) as stop:
                claimer = stop.waiter()
                kill(claimer.pid)
                _record.killed = claimer.pid
                stop.release()
            wait_until(lambda: len(runs_of(factory)) == 15, timeout=90)
            wait_until(lambda: _all_final(factory), timeout=120)
            _record.beat_logs = [log_text(beat) for beat in (beat_one, beat_two)]
    _record.runs = runs_of(factory)
    with factory() as session:
        rows = session.execute(select(Batch.id, Batch.status, Batch.as_of)).all()
        _record.batches = [(batch_id, str(status), as_of) for batch_id, status, as_of in rows]
        linked = select(ScheduleRun.batch_id).where(ScheduleRun.batch_id.is_not(None))
        _record.linked = sorted(session.scalars(linked))


def _make_schedules(factory: SessionFactory) -> dict[str, int]:
    """The five schedules, made while beat runs, at least 15 s before the next minute; vic, the
    owner of one, is made a viewer after."""
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


def runs_of(factory: SessionFactory) -> list[Run]:
    with factory() as session:
        rows = session.execute(
            select(
                ScheduleRun.schedule_id, ScheduleRun.due_at, ScheduleRun.status, ScheduleRun.reason
            ).order_by(ScheduleRun.schedule_id, ScheduleRun.due_at)
        ).all()
    names = list(SCHEDULES)
    return [(names[each - 1], due, str(status), reason) for each, due, status, reason in rows]


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
