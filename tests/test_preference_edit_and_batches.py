"""A person's edit beside batches: a batch that keeps guardians' choices keeps the edit, and an
edit waits for a batch chunk's row lock, then applies on top of what the chunk committed."""

import threading

import pytest
from sqlalchemy import text

from shared.core.db import SessionFactory
from shared.core.vocabulary import REASONS
from tests.support.district import District
from tests.support.driver import run_batch
from tests.support.preference_edit import edit_person, person_channel, reasons, wait_for_a_lock_wait
from tests.support.preference_edit import family as family  # the fixture, for pytest to find here


def test_a_batch_keeping_guardian_choices_keeps_the_edit(family: SessionFactory):
    # The guardian confirms emergency on (already on) and turns general on.
    changes = {"email": {"emergency": "on", "general": "on"}}
    edit_person(family, "P-1", {"setBy": "guardian", "changes": changes})
    off = {"email": {"emergency": "off", "attendance": "on", "general": "off"}}

    kept = run_batch(
        family,
        {
            "mode": "studentContact",
            "scope": {"calendarId": "CAL-1"},
            "changes": off,
            "keepGuardianChoices": True,
        },
    )

    assert kept["status"] == "succeeded"
    assert kept["result"]["counts"]["email"] == {
        **dict.fromkeys(REASONS),
        "emergency": 0,
        "attendance": 1,
        "general": 0,
    }
    assert kept["result"]["kept"]["email"] == {
        **dict.fromkeys(REASONS),
        "emergency": 1,
        "attendance": 0,
        "general": 1,
    }
    batch = f"batch:{kept['id']}"
    assert person_channel(family, "P-1", "email") == {
        "address": "ana@example.org",
        **reasons(
            ("emergency", "attendance", "general", "priority"),
            emergency="guardian",
            attendance=batch,
            general="guardian",
            priority="guardian",
        ),
    }


@pytest.mark.postgres
def test_an_edit_waits_for_a_chunk_s_row_lock_and_applies_on_top(
    pg_session_factory: SessionFactory,
):
    """A batch chunk holds the email row (it turned attendance on, not committed yet); the edit
    waits for it, then changes only its own reasons of what the chunk committed."""
    with pg_session_factory.begin() as session:
        d = District(session)
        d.prefer(d.person("P-1", email="ana@example.org"), "email", ["emergency"])
        d.finish()
    chunk = pg_session_factory()
    chunk.begin()
    chunk.execute(text("UPDATE preferences SET mask = mask | 2, setter_attendance = 7"))
    failures: list[BaseException] = []

    def edit() -> None:
        try:
            payload = {"setBy": "guardian", "changes": {"email": {"emergency": "off"}}}
            edit_person(pg_session_factory, "P-1", payload)
        except BaseException as error:  # reported by the test below
            failures.append(error)

    editor = threading.Thread(target=edit)
    editor.start()
    try:
        wait_for_a_lock_wait(pg_session_factory)
    finally:
        chunk.commit()
        chunk.close()
        editor.join(timeout=30)
    assert failures == []
    assert person_channel(pg_session_factory, "P-1", "email") == {
        "address": "ana@example.org",
        **reasons(("attendance",), emergency="guardian", attendance="batch:7"),
    }
