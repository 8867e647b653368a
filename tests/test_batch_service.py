"""Submitting through the service layer: what is stored, and idempotency under concurrency."""

import threading

from sqlalchemy import func, select, text

from shared.batches.pipeline.messages import plan
from shared.models import AuditEntry, Batch
from tests.support.district import District
from tests.support.driver import submit
from tests.support.processes import wait_until

BODY = {"mode": "student", "scope": {"calendarId": "C"}, "changes": {"email": {"general": "on"}}}


def wait_for_the_second(factory) -> None:
    with factory() as observer:
        wait_until(
            lambda: observer.scalar(text("SELECT count(*) FROM pg_locks WHERE NOT granted")),
            timeout=10,
            message="the second submission to wait for the first",
        )


def test_concurrent_submissions_with_one_key_make_one_batch(pg_session_factory):
    with pg_session_factory.begin() as session:
        district = District(session)
        district.calendar("C", district.school("S"))
    second: list[tuple[int, bool]] = []

    def submit_again() -> None:
        with pg_session_factory.begin() as session:
            again = submit(session, BODY, idempotency_key="once")
            second.append((again.batch.id, again.created, again.messages))

    with pg_session_factory.begin() as session:
        first = submit(session, BODY, idempotency_key="once")
        assert (first.created, first.messages) == (True, (plan(first.batch.id),))
        racer = threading.Thread(target=submit_again)
        racer.start()
        # The second waits for its turn to add a batch until this transaction ends.
        wait_for_the_second(pg_session_factory)
    racer.join(timeout=10)
    assert second == [(first.batch.id, False, ())]
    with pg_session_factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        actions = session.scalars(select(AuditEntry.action)).all()
    assert actions == ["batch.submit"]


def test_a_batch_submitted_while_another_commits_gets_the_later_id(pg_session_factory):
    """Ids are submission order: a second submission made while the first's transaction is open
    waits for it, so its batch can never be seen (and run) before the first's."""
    with pg_session_factory.begin() as session:
        district = District(session)
        district.calendar("C", district.school("S"))
    second: list[int] = []

    def submit_second() -> None:
        with pg_session_factory.begin() as session:
            second.append(submit(session, BODY).batch.id)

    with pg_session_factory.begin() as session:
        first = submit(session, BODY).batch
        racer = threading.Thread(target=submit_second)
        racer.start()
        wait_for_the_second(pg_session_factory)
        assert second == []
    racer.join(timeout=10)
    assert second == [first.id + 1]
