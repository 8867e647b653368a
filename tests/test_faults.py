"""Exactly once under faults (docs/reliability.md): a worker killed at
each step of a batch, a plan or chunk that kills its worker every time, Redis restarted, every
message delivered twice, a worker's database connection terminated, two overlapping batches
submitted at once, and the web process restarted, each on a real PostgreSQL, a real Redis and
real `celery worker` processes.

Every test ends by comparing the batches (status, progress, counts, kept), their change logs
and the whole district's preferences with a clean run of the same batches on the same data:
they must be exactly equal. How long each took to recover is recorded (`recovery_seconds`) and
shown at the end of the run; docs/reliability.md lists the figures.

The district is tests/support/stack.py's: four targets, chunks of one, so four chunks.
"""

import contextlib
import threading
from typing import Any

import pytest
import redis

from tests.support.fault_stack import FaultStack, fault_stack, final_view, gunicorn
from tests.support.fault_stack import faults as faults  # the fixture, for pytest to find here
from tests.support.faults import (
    Stopwatch,
    alive,
    failpoint,
    kill,
    row_lock,
    terminate_backend,
    wait_for_waiter,
    waiters,
)
from tests.support.http import HttpClient
from tests.support.processes import kill_hard, log_text, wait_until
from tests.support.results import result_table
from tests.support.services import RedisServer, Unavailable, free_port
from tests.support.stack import AGAIN_COUNTS, CHANGES, FIRST, FIRST_COUNTS, progress_of

pytestmark = [pytest.mark.faults, pytest.mark.postgres, pytest.mark.redis]

BODY = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26", "schoolId": "S1"},
    "asOf": "2025-10-15",
    "changes": CHANGES,
}
# Overlaps BODY: email emergency, cell emergency and household staff, the other way round.
OTHER = BODY | {
    "changes": {
        "householdPhone": {"staff": "off"},
        "cellPhone": {"emergency": "off"},
        "email": {"emergency": "off", "behavior": "on"},
    }
}
CHUNK_DONE = "NEW.done AND NOT OLD.done"
LAST_CHUNK_DONE = (
    f"{CHUNK_DONE} AND NOT EXISTS (SELECT 1 FROM batch_chunks c WHERE c.batch_id = NEW.batch_id"
    " AND NOT c.done AND c.chunk_no <> NEW.chunk_no)"
)
# Where a worker is stopped and killed: the failpoint (table, event, condition) it waits at.
POINTS = {
    # planning has written the targets and is about to write the chunks
    "during plan": ("batch_chunks", "INSERT", None),
    # the second chunk has applied its changes and is about to mark itself done
    "mid-chunk before commit": ("batch_chunks", "UPDATE", f"{CHUNK_DONE} AND NEW.chunk_no = 1"),
    # the last chunk committed; then a row lock stops its follow-up before the finalize
    "right after a chunk commits": ("batch_chunks", "UPDATE", LAST_CHUNK_DONE),
    # the finalize has summed the chunks and is writing the result
    "during finalize": ("batches", "UPDATE", "OLD.status = 'running' AND NEW.status <> 'running'"),
}


def test_the_clean_run_is_the_hand_counted_one(faults: FaultStack):
    """What every fault test compares with: the counts worked out by hand in stack.py."""
    with faults.beat(), faults.worker():
        clean = faults.clean_run([BODY])
    assert [batch["result"]["counts"] for batch in clean.batches] == [FIRST_COUNTS]
    assert clean.batches[0]["progress"] == progress_of(4, 4)
    assert len(clean.changes[0].splitlines()) == 1 + sum(FIRST.values())


VICTIMS = ["main process", "pool child"]


@pytest.mark.parametrize("victim", VICTIMS)
@pytest.mark.parametrize("point", list(POINTS))
def test_a_worker_killed(faults: FaultStack, point: str, victim: str, record_property: Any):
    """SIGKILL of the worker's main process (its pool children die with it) or of the pool
    child running the task, at `point`. What was not committed is rolled back; the message
    comes back (at once for a child, through the sweeper or the visibility timeout for a dead
    worker, which a supervisor restarts) and the batch ends as the clean run did."""
    with faults.beat(), faults.worker() as worker:
        clean = faults.clean_run([BODY])
        with contextlib.ExitStack() as held:
            stop = held.enter_context(failpoint(faults.pg_url, *POINTS[point]))
            batch_id = faults.submit(BODY)
            waiter = stop.waiter()
            if point == "right after a chunk commits":
                lock = "SELECT 1 FROM batches WHERE id = %s FOR SHARE"
                held.enter_context(row_lock(faults.pg_url, lock, [batch_id]))
                stop.release()
                waiter = wait_for_waiter(stop.connection, "row")
            assert waiter.pid != worker.pid  # the task runs in a pool child
            clock = Stopwatch()
            kill(worker.pid if victim == "main process" else waiter.pid)
            if victim == "main process":
                wait_until(lambda: not alive(waiter.pid), timeout=10, message="the child to die")
        with faults.worker() if victim == "main process" else contextlib.nullcontext():
            outcome = faults.outcome([batch_id])
        faults.recovered(record_property, clock, [batch_id])
    assert outcome == clean


# What batch 1 has applied when the step that kills its worker every time gives up.
# G1's, G5's and G6's chunks: H1's emergency, G1's cell and attendance, G6's two emails
ALL_BUT_CHUNK_1 = result_table(
    householdPhone__emergency=1,
    householdPhone__staff=0,
    homePhone__emergency=0,
    cellPhone__emergency=1,
    email__emergency=1,
    email__attendance=2,
)
POISONED = {
    "plan": ("planning", progress_of(0, 0), AGAIN_COUNTS),  # all zeros
    "chunk": ("chunk 1", progress_of(3, 4), ALL_BUT_CHUNK_1),
}


@pytest.mark.parametrize("step", list(POISONED))
def test_a_step_that_kills_its_worker_every_time_fails_its_batch(
    faults: FaultStack, step: str, record_property: Any
):
    """Planning batch 1, or its chunk 1 (G2, and household H2), kills its pool process each
    time it starts. After three starts (CPB_TASK_ATTEMPTS) the batch fails with an error that
    says so, what it applied stays applied and counted, and the next batch runs instead of
    waiting for ever."""
    what, progress, counts = POISONED[step]
    with faults.beat():
        with faults.worker():
            clean = faults.clean_run([BODY, OTHER])
        poisoned = faults.env | {"CPB_TEST_POISON": step}
        with faults.worker(app="tests.support.poison_worker", env=poisoned) as worker:
            clock = Stopwatch()
            first, second = faults.submit(BODY), faults.submit(OTHER)
            failed = faults.finished(first)
            record_property("recovery_seconds", clock.seconds())
            after = faults.finished(second)
            log = log_text(worker)
    assert (failed["status"], failed["progress"]) == ("failed", progress)
    assert failed["result"]["errors"] == [
        f"{what} was started 3 times and never finished (its worker stopped or failed each time)"
    ]
    assert failed["result"]["counts"] == counts
    assert log.count("exited with 'signal 9 (SIGKILL)'") == 3
    assert after["status"] == "succeeded"
    assert after["progress"] == clean.batches[1]["progress"]


def test_every_message_delivered_twice(faults: FaultStack, record_property: Any):
    """The app sends each plan twice and the worker each chunk twice, so two copies of every
    chunk run at the same time in the two pool processes: each chunk applies once."""
    with faults.beat():
        with faults.worker(concurrency=2):
            clean = faults.clean_run([BODY])
        faults.copies = 2
        with faults.worker(concurrency=2, app="tests.support.twice_worker") as worker:
            clock = Stopwatch()
            outcome = faults.outcome([faults.submit(BODY)])
            record_property("recovery_seconds", clock.seconds())
            # Copies that come after the batch finished are skipped as well.
            log = wait_until(
                lambda: (text := log_text(worker)).count("applied=False") >= 4 and text,
                timeout=30,
                message="the second copy of every chunk to be skipped",
            )
    assert outcome == clean
    assert log.count("batch=1 planned") == 2
    assert log.count("applied=True") == 4


def test_a_workers_connection_terminated_mid_chunk(faults: FaultStack, record_property: Any):
    """pg_terminate_backend of the connection applying the second chunk, before it commits:
    the task fails, retries on a new connection in the same process, and applies the chunk."""
    with faults.beat(), faults.worker() as worker:
        clean = faults.clean_run([BODY])
        with failpoint(faults.pg_url, *POINTS["mid-chunk before commit"]) as stop:
            batch_id = faults.submit(BODY)
            waiter = stop.waiter()
            clock = Stopwatch()
            terminate_backend(faults.pg_url, waiter.backend_pid)
            retried = stop.waiter(other_than=waiter.backend_pid)
            assert retried.pid == waiter.pid
        outcome = faults.outcome([batch_id])
        faults.recovered(record_property, clock, [batch_id])
        log = log_text(worker)
    assert outcome == clean
    assert "terminating connection due to administrator command" in log
    assert "Retry in 1s" in log


def test_redis_restarted_without_persistence_mid_batch(
    pg_url, pg_engine, pg_session_factory, record_property: Any
):
    """Redis is killed while two chunks run and two wait in its queue, and comes back empty.
    Meanwhile a second batch is submitted (its plan message cannot be sent). The sweeper
    rebuilds what was lost from the database."""
    try:
        server = RedisServer()
    except Unavailable as exc:
        pytest.skip(str(exc))
    with (
        server,
        fault_stack(pg_url, server.url, pg_engine, pg_session_factory) as faults,
        faults.beat(),
        faults.worker(concurrency=2),
    ):
        clean = faults.clean_run([BODY, BODY])
        with failpoint(faults.pg_url, "batch_chunks", "UPDATE", CHUNK_DONE) as stop:
            first = faults.submit(BODY)
            running = stop.waiter()
            stop.waiter(other_than=running.backend_pid)
            with redis.Redis.from_url(server.url) as broker:
                assert broker.llen("cpb") >= 1  # chunk messages waiting in the queue
            clock = Stopwatch()
            server.kill()
            second = faults.submit(BODY)
            server.start()
        outcome = faults.outcome([first, second])
        faults.recovered(record_property, clock, [first, second])
    assert outcome == clean


def test_two_overlapping_batches_submitted_at_the_same_moment(
    faults: FaultStack, record_property: Any
):
    """The first submission is held just before it commits; the second arrives meanwhile. The
    first submitted applies first and the second's values stand where they overlap, each with
    the counts it has when run alone in that order, and neither waits for the other forever."""
    with faults.beat(), faults.worker(concurrency=2):
        clean = faults.clean_run([BODY, OTHER])
        ids: dict[str, int] = {}

        def submit(name: str, body: dict[str, Any]) -> threading.Thread:
            thread = threading.Thread(target=lambda: ids.update({name: faults.submit(body)}))
            thread.start()
            return thread

        held = "NEW.action = 'batch.submit' AND NEW.subject = 'batch:1'"
        with failpoint(faults.pg_url, "audit_log", "INSERT", held) as stop:
            earlier = submit("earlier", BODY)
            first = stop.waiter(role="cpb")
            later = submit("later", OTHER)
            wait_until(
                lambda: not later.is_alive() or len(waiters(stop.connection, "cpb")) == 2,
                timeout=30,
                message="the later submission to be accepted or to wait",
            )
            assert first.backend_pid in [w.backend_pid for w in waiters(stop.connection, "cpb")]
        clock = Stopwatch()
        earlier.join(timeout=30)
        later.join(timeout=30)
        assert ids == {"earlier": 1, "later": 2}
        outcome = faults.outcome([ids["earlier"], ids["later"]])
        record_property("recovery_seconds", clock.seconds())
    assert outcome == clean


def test_polling_resumes_after_the_web_process_restarts(faults: FaultStack, record_property: Any):
    """gunicorn, killed while a batch runs and started again on the same port: the batch's
    progress reads the same as before, and the batch goes on to the clean run's result."""
    port = free_port()
    with faults.beat(), faults.worker():
        clean = faults.clean_run([BODY])
        third_chunk = ("batch_chunks", "UPDATE", f"{CHUNK_DONE} AND NEW.chunk_no = 2")
        with failpoint(faults.pg_url, *third_chunk) as stop:
            with gunicorn(faults, port) as web:
                api = HttpClient(f"http://127.0.0.1:{port}", faults.headers)
                batch_id = api.post("/api/v1/batches", BODY)["id"]
                stop.waiter()
                before = api.get(f"/api/v1/batches/{batch_id}")
                clock = Stopwatch()
                kill_hard(web)
            with gunicorn(faults, port):
                api = HttpClient(f"http://127.0.0.1:{port}", faults.headers)
                after = api.get(f"/api/v1/batches/{batch_id}")
                record_property("recovery_seconds", clock.seconds())
                stop.release()
                final = wait_until(
                    lambda: final_view(api.get(f"/api/v1/batches/{batch_id}")), timeout=60
                )
        outcome = faults.outcome([batch_id])
    progress = progress_of(2, 4)
    assert (before["status"], before["progress"]) == ("running", progress)
    assert (after["status"], after["progress"]) == ("running", progress)
    assert (final["status"], final["result"]) == ("succeeded", clean.batches[0]["result"])
    assert outcome == clean
