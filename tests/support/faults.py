"""Faults injected into the real stack: processes killed at a chosen point, connections
terminated, the broker restarted.

A failpoint is a trigger the test installs in the test database: a row (or statement) that
matches its condition waits on an advisory lock the test holds, so a worker stops exactly there,
in the middle of its transaction, until the test has done its damage. The product's code is the
code that runs; only the database is told to wait. Each connection names its process
(`cpb-worker <pid>`, see shared/core/db.py), so the test knows whom to kill.
"""

import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import psycopg
from sqlalchemy import Engine, text

from tests.support.processes import wait_until
from tests.support.services import libpq_url

FAILPOINT_KEY: Final = 4_242_001
WAIT_SECONDS: Final = 30.0


@dataclass(frozen=True)
class Waiter:
    """A backend waiting on a lock, and the process whose connection it is."""

    backend_pid: int
    role: str
    pid: int
    lock: str  # pg_locks.locktype of the lock it waits for


def waiters(connection: psycopg.Connection, role: str = "cpb-worker") -> list[Waiter]:
    """The backends of processes of `role` waiting on a lock in this database."""
    rows = connection.execute(
        "SELECT DISTINCT a.pid, a.application_name, l.locktype FROM pg_locks l "
        "JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE NOT l.granted AND a.datname = current_database() "
        "AND a.application_name LIKE %s ORDER BY a.pid",
        [f"{role} %"],
    ).fetchall()
    return [
        Waiter(backend, name.split()[0], int(name.split()[1]), locktype)
        for backend, name, locktype in rows
    ]


def wait_for_waiter(
    connection: psycopg.Connection,
    lock: str,
    other_than: int | None = None,
    role: str = "cpb-worker",
) -> Waiter:
    """The first backend of a `role` process that waits on a lock of kind `lock` (`advisory`: a
    failpoint or a turn; `row`: a row lock), other than backend `other_than`."""

    def found() -> Waiter | None:
        for waiter in waiters(connection, role):
            kinds = ("tuple", "transactionid") if lock == "row" else (lock,)
            if waiter.lock in kinds and waiter.backend_pid != other_than:
                return waiter
        return None

    return wait_until(found, timeout=WAIT_SECONDS, interval=0.05, message=f"a {lock} lock waiter")


class Failpoint:
    """While installed: every row of `table` that `event` touches and that meets `condition`
    (SQL over NEW and OLD), or every statement when `condition` is None, waits on the lock held
    here until `release()`."""

    def __init__(self, connection: psycopg.Connection) -> None:
        self.connection = connection
        self.held = True

    def waiter(self, other_than: int | None = None, role: str = "cpb-worker") -> Waiter:
        return wait_for_waiter(self.connection, "advisory", other_than, role)

    def release(self) -> None:
        if self.held:
            self.connection.execute("SELECT pg_advisory_unlock(%s)", [FAILPOINT_KEY])
            self.held = False


@contextlib.contextmanager
def failpoint(
    url: str, table: str, event: str, condition: str | None = None
) -> Iterator[Failpoint]:
    if condition is None:
        level, test = "STATEMENT", "true"
    else:
        level, test = "ROW", condition
    result = "NULL" if condition is None else ("OLD" if event == "DELETE" else "NEW")
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("SELECT pg_advisory_lock(%s)", [FAILPOINT_KEY])
        connection.execute(
            "CREATE OR REPLACE FUNCTION cpb_test_failpoint() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN IF {test} THEN "
            f"PERFORM pg_advisory_xact_lock_shared({FAILPOINT_KEY}); END IF; "
            f"RETURN {result}; END $$"
        )
        connection.execute(
            f"CREATE TRIGGER cpb_test_failpoint BEFORE {event} ON {table} "
            f"FOR EACH {level} EXECUTE FUNCTION cpb_test_failpoint()"
        )
        point = Failpoint(connection)
        try:
            yield point
        finally:
            point.release()
            connection.execute("SET lock_timeout = '60s'")
            connection.execute(f"DROP TRIGGER cpb_test_failpoint ON {table}")
            connection.execute("DROP FUNCTION cpb_test_failpoint()")


@contextlib.contextmanager
def row_lock(url: str, sql: str, args: list[object]) -> Iterator[None]:
    """Holds the row locks `sql` (a SELECT ... FOR UPDATE or FOR SHARE) takes, until the end."""
    with psycopg.connect(libpq_url(url)) as connection:
        connection.execute(sql, args)
        try:
            yield
        finally:
            connection.rollback()


def terminate_backend(url: str, backend_pid: int) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


def kill(pid: int) -> None:
    """SIGKILL, as the OOM killer or a crash would stop it; returns once it is gone."""
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), timeout=WAIT_SECONDS, message=f"process {pid} to die")


def alive(pid: int) -> bool:
    """Running (a zombie waiting to be reaped counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


class Stopwatch:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.started_at = datetime.now(UTC)

    def seconds(self) -> float:
        return round(time.monotonic() - self.started, 1)

    def until(self, moment: datetime) -> float:
        return round((moment - self.started_at).total_seconds(), 1)


def moved_again(engine: Engine, batch_ids: list[int], since: datetime) -> datetime | None:
    """When the batches moved again after `since`: the first chunk that committed after it, or
    else the first batch finalized after it."""
    with engine.connect() as connection:
        return connection.execute(
            text(
                "SELECT min(moment) FROM ("
                " SELECT done_at AS moment FROM batch_chunks"
                "  WHERE batch_id = ANY(:ids) AND done_at > :since"
                " UNION ALL SELECT finished_at FROM batches"
                "  WHERE id = ANY(:ids) AND finished_at > :since) AS moved"
            ),
            {"ids": batch_ids, "since": since},
        ).scalar()
