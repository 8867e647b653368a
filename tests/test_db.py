"""The embedded default's SQLite transactions: a writer's BEGIN IMMEDIATE queues writers up,
and a read-only session (a streamed export) does not hold them up meanwhile."""

import threading

from sqlalchemy import func, select

from shared.core.db import SessionFactory, read_session
from shared.models import School


def schools(factory: SessionFactory) -> int:
    with factory() as session:
        return session.scalar(select(func.count()).select_from(School)) or 0


def writer(factory: SessionFactory, ext_id: str) -> threading.Thread:
    """Adds a school in a thread of its own, started."""

    def write() -> None:
        with factory.begin() as session:
            session.add(School(ext_id=ext_id, name=ext_id))

    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def test_a_read_session_lets_a_writer_commit_and_keeps_its_snapshot(
    sqlite_session_factory: SessionFactory,
):
    count = select(func.count()).select_from(School)
    with read_session(sqlite_session_factory) as reader:
        assert reader.scalar(count) == 0  # its transaction is open from here
        adding = writer(sqlite_session_factory, "S-1")
        adding.join(timeout=10)
        assert not adding.is_alive()  # committed while the reader was still reading
        assert reader.scalar(count) == 0  # the reader's snapshot
    assert schools(sqlite_session_factory) == 1


def test_an_ordinary_session_holds_writers_until_it_ends(sqlite_session_factory: SessionFactory):
    with sqlite_session_factory() as holder:
        holder.scalar(select(func.count()).select_from(School))  # BEGIN IMMEDIATE
        adding = writer(sqlite_session_factory, "S-1")
        adding.join(timeout=1)
        assert adding.is_alive()  # waiting for the lock
    adding.join(timeout=10)
    assert not adding.is_alive()
    assert schools(sqlite_session_factory) == 1
