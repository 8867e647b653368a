"""Two ticks at the same moment (two beats) on PostgreSQL: they wait on the schedule's row
together, and the one that gets it second finds the run recorded."""

import threading

import psycopg
import pytest

from shared.core.db import SessionFactory
from shared.schedules.tick import TickReport
from tests.support.faults import Waiter, row_lock, waiters
from tests.support.processes import wait_until
from tests.support.schedules import local, make_schedule, runs_of, tick_at
from tests.support.services import libpq_url
from tests.support.web import add_district, add_user

pytestmark = pytest.mark.postgres
LOCK = "SELECT id FROM schedules WHERE id = %s FOR UPDATE"


def test_two_ticks_at_the_same_moment_record_one_run(
    pg_session_factory: SessionFactory, pg_url: str
):
    add_user(pg_session_factory, "admin", "district_admin")
    add_district(pg_session_factory)
    schedule_id = make_schedule(pg_session_factory, local("2026-08-01T01:00"))
    reports: list[TickReport] = []

    def tick() -> None:
        reports.append(tick_at(pg_session_factory, local("2026-08-01T02:00:05")))

    with (
        row_lock(pg_url, LOCK, [schedule_id]),
        psycopg.connect(libpq_url(pg_url), autocommit=True) as watcher,
    ):
        ticks = [threading.Thread(target=tick) for _ in range(2)]
        for each in ticks:
            each.start()
        # Both ticks wait on the row (one on the lock's holder, one behind it) before it frees.
        wait_until(lambda: len(_row_waiters(watcher)) == 2, message="two ticks waiting")
        assert reports == []
    for each in ticks:
        each.join(timeout=30)

    assert sorted(report.ran for report in reports) == [0, 1]
    assert runs_of(pg_session_factory, schedule_id) == [("2026-08-01 02:00 CDT", "ran", True, None)]


def _row_waiters(connection: psycopg.Connection) -> list[Waiter]:
    return [each for each in waiters(connection, "cpb") if each.lock in ("tuple", "transactionid")]
