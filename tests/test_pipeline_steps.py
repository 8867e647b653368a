"""The pipeline's steps and their order, without a broker: which messages each step asks for,
what a lost or repeated message does, and how batches follow one another."""

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from shared.batches.actions import cancel_batch
from shared.batches.pipeline import recovery
from shared.batches.pipeline import steps as pipeline
from shared.batches.pipeline.messages import APPLY_CHUNK, PLAN, Message
from shared.batches.pipeline.steps import ChunkRun
from shared.models import Batch, BatchChunk
from tests.support import driver
from tests.support.district import District
from tests.support.driver import TODAY, drain

LEASE = timedelta(minutes=5)
CHANGES = {"cellPhone": {"emergency": "on"}}


@pytest.fixture
def five_students(session_factory):
    return add_five_students(session_factory)


def add_five_students(session_factory):
    with session_factory.begin() as session:
        d = District(session)
        calendar = d.calendar("C", d.school("S"))
        for n in range(5):
            d.enroll(d.person(f"s{n}", cell_phone=f"555{n}"), calendar)
        d.finish()
    return session_factory


def submit(factory, changes=CHANGES) -> int:
    body = {"mode": "student", "scope": {"calendarId": "C"}, "changes": changes}
    with factory.begin() as session:
        return driver.submit(session, body, today=TODAY).batch.id


def step(factory, function, *args):
    with factory.begin() as session:
        return function(session, *args)


def view(factory, batch_id):
    return driver.view_of(factory, batch_id)


def test_plan_cuts_targets_into_chunks_and_starts_them(five_students):
    batch_id = submit(five_students)
    now = datetime.now(UTC)
    messages = step(five_students, pipeline.plan, batch_id, 2, now)
    assert messages == [Message(APPLY_CHUNK, (batch_id, n)) for n in range(3)]
    current = view(five_students, batch_id)
    assert (current["status"], current["progress"]) == (
        "running",
        {"done": 0, "total": 3, "people": {"done": 0, "total": 5}},
    )
    # a repeated plan message plans nothing again and starts nothing twice
    assert step(five_students, pipeline.plan, batch_id, 2, now) == []


def test_a_repeated_chunk_counts_once(five_students):
    batch_id = submit(five_students)
    messages = step(five_students, pipeline.plan, batch_id, 2, datetime.now(UTC))
    now = datetime.now(UTC)
    assert step(five_students, pipeline.run_chunk, batch_id, 0, now) == ChunkRun("apply", 2)
    assert step(five_students, pipeline.run_chunk, batch_id, 0, now) is None
    drain(five_students, messages, chunk_size=2)
    result = view(five_students, batch_id)["result"]
    assert (result["targets"], result["counts"]["cellPhone"]["emergency"]) == (5, 5)


def test_a_chunk_started_too_often_fails_its_batch(five_students):
    """Each start counts, in its own transaction; once three were spent, the next start gets the
    error that fails the batch. A chunk done is never counted again."""
    batch_id = submit(five_students)
    step(five_students, pipeline.plan, batch_id, 2, datetime.now(UTC))
    starts = [step(five_students, pipeline.start_chunk, batch_id, 1, 3) for _ in range(4)]
    assert starts == [
        None,
        None,
        None,
        "chunk 1 was started 3 times and never finished (its worker stopped or failed each time)",
    ]
    assert step(five_students, pipeline.start_chunk, batch_id, 0, 3) is None
    assert step(five_students, pipeline.run_chunk, batch_id, 0, datetime.now(UTC)) is not None
    assert [step(five_students, pipeline.start_chunk, batch_id, 0, 1) for _ in range(3)] == [
        None
    ] * 3
    error = starts[-1]
    step(five_students, pipeline.fail, batch_id, error, datetime.now(UTC))
    final = view(five_students, batch_id)
    assert (final["status"], final["progress"], final["result"]["errors"]) == (
        "failed",
        {"done": 1, "total": 3, "people": {"done": 2, "total": 5}},
        [error],
    )
    assert final["result"]["counts"]["cellPhone"]["emergency"] == 2  # chunk 0's two students


def test_a_plan_started_too_often_fails_its_batch(five_students):
    batch_id = submit(five_students)
    starts = [step(five_students, pipeline.start_plan, batch_id, 2) for _ in range(3)]
    error = (
        "planning was started 2 times and never finished (its worker stopped or failed each time)"
    )
    assert starts == [None, None, error]
    step(five_students, pipeline.fail, batch_id, error, datetime.now(UTC))
    final = view(five_students, batch_id)
    assert (final["status"], final["progress"], final["result"]["errors"]) == (
        "failed",
        {"done": 0, "total": 0, "people": {"done": 0, "total": 0}},
        [error],
    )
    # a batch planned (or failed) is never counted again
    planned = submit(five_students)
    step(five_students, pipeline.plan, planned, 2, datetime.now(UTC))
    assert [step(five_students, pipeline.start_plan, planned, 1) for _ in range(2)] == [None] * 2
    assert step(five_students, pipeline.start_plan, batch_id, 1) is None


def test_the_sweeper_finds_a_lost_plan_and_lost_chunks(five_students):
    batch_id = submit(five_students)
    just_now = datetime.now(UTC) - timedelta(seconds=2)
    soon = datetime.now(UTC) + timedelta(seconds=1)
    # the plan was not sent before `just_now`; sent before `soon` and not planned, it is listed
    assert step(five_students, recovery.waiting, just_now) == []
    assert step(five_students, recovery.waiting, soon) == [Message(PLAN, (batch_id,))]
    # the plan ran, chunk 1 applied, the messages of chunks 0 and 2 are waiting or lost
    step(five_students, pipeline.plan, batch_id, 2, datetime.now(UTC))
    step(five_students, pipeline.run_chunk, batch_id, 1, datetime.now(UTC))
    chunks = [Message(APPLY_CHUNK, (batch_id, n)) for n in (0, 1, 2)]
    assert step(five_students, recovery.waiting, soon) == [chunks[0], chunks[2]]
    # sent again: the chunk done is not; each chunk sent is marked sent at `soon`
    assert step(five_students, recovery.resend, chunks, soon, soon) == [chunks[0], chunks[2]]
    assert step(five_students, recovery.waiting, soon) == []
    # so a second sweep that found them lost at the same time does not send them too
    assert step(five_students, recovery.resend, chunks, soon, soon) == []
    drain(five_students, [chunks[0], chunks[2]], chunk_size=2)
    final = view(five_students, batch_id)
    assert (final["status"], final["result"]["counts"]["cellPhone"]["emergency"]) == (
        "succeeded",
        5,
    )
    assert step(five_students, recovery.waiting, soon + LEASE) == []


@pytest.mark.postgres
def test_the_sweeper_leaves_a_row_that_a_live_transaction_holds(pg_session_factory):
    """A plan or chunk being worked on holds its row: never listed, never sent again."""
    factory = add_five_students(pg_session_factory)
    planning, planned = submit(factory), submit(factory)
    step(factory, pipeline.plan, planned, 2, datetime.now(UTC))
    step(factory, pipeline.dispatch, datetime.now(UTC))  # `planning` is the head: nothing runs
    soon = datetime.now(UTC) + timedelta(seconds=1)
    assert step(factory, recovery.waiting, soon) == [Message(PLAN, (planning,))]
    with factory.begin() as holder:
        holder.get(Batch, planning, with_for_update=True)
        assert step(factory, recovery.waiting, soon) == []
        assert step(factory, recovery.resend, [Message(PLAN, (planning,))], soon, soon) == []
    step(factory, pipeline.plan, planning, 2, datetime.now(UTC))
    step(factory, pipeline.dispatch, datetime.now(UTC))
    chunks = [Message(APPLY_CHUNK, (planning, n)) for n in (0, 1, 2)]
    assert step(factory, recovery.waiting, soon) == chunks
    with factory.begin() as holder:
        holder.get(BatchChunk, (planning, 1), with_for_update=True)
        assert step(factory, recovery.waiting, soon) == [chunks[0], chunks[2]]
        assert step(factory, recovery.resend, chunks, soon, soon) == [chunks[0], chunks[2]]


def test_batches_apply_in_submission_order(five_students):
    first, second = (
        submit(five_students),
        submit(five_students, {"cellPhone": {"emergency": "off"}}),
    )
    now = datetime.now(UTC)
    # the second is planned first, but cannot start before the first has finished
    assert step(five_students, pipeline.plan, second, 10, now) == []
    assert view(five_students, second)["status"] == "queued"
    assert step(five_students, pipeline.plan, first, 10, now) == [Message(APPLY_CHUNK, (first, 0))]
    step(five_students, pipeline.run_chunk, first, 0, now)
    # finishing the first starts the second
    assert step(five_students, pipeline.dispatch, now) == [Message(APPLY_CHUNK, (second, 0))]
    step(five_students, pipeline.run_chunk, second, 0, now)
    assert step(five_students, pipeline.dispatch, now) == []
    assert view(five_students, first)["result"]["counts"]["cellPhone"]["emergency"] == 5
    assert view(five_students, second)["result"]["counts"]["cellPhone"]["emergency"] == 5


def test_a_failed_batch_keeps_what_it_applied_and_the_next_one_starts(five_students):
    first, second = submit(five_students), submit(five_students)
    now = datetime.now(UTC)
    step(five_students, pipeline.plan, first, 2, now)
    step(five_students, pipeline.plan, second, 2, now)
    step(five_students, pipeline.run_chunk, first, 0, now)
    messages = step(five_students, pipeline.fail, first, "chunk 1 failed: disk full", now)
    assert messages == [Message(APPLY_CHUNK, (second, n)) for n in range(3)]
    failed = view(five_students, first)
    assert (failed["status"], failed["result"]["errors"]) == (
        "failed",
        ["chunk 1 failed: disk full"],
    )
    assert failed["result"]["counts"]["cellPhone"]["emergency"] == 2  # chunk 0: s0 and s1
    # a late message for the failed batch changes nothing
    assert step(five_students, pipeline.run_chunk, first, 1, now) is None
    drain(five_students, messages, chunk_size=2)
    assert view(five_students, second)["result"]["counts"]["cellPhone"]["emergency"] == 3


def test_only_the_last_chunk_moves_the_pipeline_on(five_students):
    first, second = submit(five_students), submit(five_students)
    now = datetime.now(UTC)
    step(five_students, pipeline.plan, first, 2, now)
    step(five_students, pipeline.plan, second, 2, now)
    for chunk_no in (0, 2):
        assert step(five_students, pipeline.run_chunk, first, chunk_no, now)
        # chunk 1 is still to do: nothing follows, and the head is left alone
        assert step(five_students, pipeline.after_chunk, first, now) == []
    assert view(five_students, first)["status"] == "running"
    assert step(five_students, pipeline.run_chunk, first, 1, now)
    # the last one finalizes the batch and starts the next
    assert step(five_students, pipeline.after_chunk, first, now) == [
        Message(APPLY_CHUNK, (second, n)) for n in range(3)
    ]
    assert view(five_students, first)["status"] == "succeeded"


def plan_second(factory, second, now):
    return step(factory, pipeline.plan, second, 2, now)


def fail_second(factory, second, now):
    return step(factory, pipeline.fail, second, "planning failed: boom", now)


def cancel_second(factory, second, now):
    with factory.begin() as session:
        return list(cancel_batch(session, second, user=None, now=now).messages)


@pytest.mark.parametrize("second_step", [plan_second, fail_second, cancel_second])
def test_a_step_on_a_later_batch_never_waits_for_the_running_one(pg_session_factory, second_step):
    """Batch rows are locked in id order. A plan, failure or cancel of a later batch locks that
    batch; it must not then wait for the running one, whose finalize holds the running one and
    goes on to lock the later one: the two would wait for each other (a deadlock the load test
    found, between a plan and the finalize before it). So while a chunk of the first is in
    flight (its row share-locked, as run_chunk holds it), the step on the second ends at once;
    the first's finalize moves on to the second."""
    factory = add_five_students(pg_session_factory)
    first, second = submit(factory), submit(factory)
    now = datetime.now(UTC)
    step(factory, pipeline.plan, first, 2, now)
    answered: list[Any] = []
    with factory.begin() as in_flight:
        in_flight.execute(select(Batch.id).where(Batch.id == first).with_for_update(read=True))
        thread = threading.Thread(target=lambda: answered.append(second_step(factory, second, now)))
        thread.start()
        thread.join(timeout=10)
        waited = thread.is_alive()
    thread.join(timeout=10)
    assert (waited, answered) == (False, [[]])
    for chunk_no in range(3):
        step(factory, pipeline.run_chunk, first, chunk_no, now)
    following = step(factory, pipeline.after_chunk, first, now)
    assert view(factory, first)["status"] == "succeeded"
    if second_step is plan_second:
        assert following == [Message(APPLY_CHUNK, (second, n)) for n in range(3)]
    else:
        assert following == []
