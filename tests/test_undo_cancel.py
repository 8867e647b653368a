"""Undo and cancel (docs/batches.md), through the service layer and the pipeline steps in this
process, on SQLite and PostgreSQL. Every count is worked out by hand next to it. The same
behaviours through the API and a real worker: tests/test_safer_batches.py.
"""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from shared.batches.actions import cancel_batch, undo_batch
from shared.batches.pipeline import steps as pipeline
from shared.batches.pipeline.messages import apply_chunk
from shared.core.db import SessionFactory
from shared.core.errors import Conflict
from shared.core.vocabulary import CHANNELS, REASON_BIT, SETTER_GUARDIAN
from shared.models import Person, preferences
from shared.models.preferences import SETTER_COLUMNS
from tests.support.driver import drain, run_batch, run_undo, submit, view_of
from tests.support.results import result_table
from tests.support.undo_cancel import BATCH, SCOPE, export, setters, values
from tests.support.undo_cancel import district as district  # the fixture, for pytest to find here

# Targets g1 (parent of s1 and s2, once) and g2 (parent of s3). email emergency: g1 and g2;
# email attendance off: g1's (a guardian set it on); cell general: g1 (g2 has no cell);
# household emergency: h1 through g1.
COUNTS = result_table(
    householdPhone__emergency=1, cellPhone__general=1, email__emergency=2, email__attendance=1
)
ZEROS = result_table(
    householdPhone__emergency=0, cellPhone__general=0, email__emergency=0, email__attendance=0
)


def guardian_sets_off(factory: SessionFactory, person: str, channel: str, reason: str) -> None:
    """What a parent portal does: one value turned off, set by the guardian."""
    row = preferences.c
    with factory.begin() as session:
        person_id = session.scalar(select(Person.id).where(Person.ext_id == person))
        session.execute(
            update(preferences)
            .where(row.subject_id == person_id, row.channel == CHANNELS.index(channel))
            .values(
                mask=row.mask - row.mask.op("&")(REASON_BIT[reason]),
                **{SETTER_COLUMNS[list(REASON_BIT).index(reason)]: SETTER_GUARDIAN},
            )
        )


def test_undo_restores_the_export_byte_for_byte_and_the_setters(district):
    before = export(district)
    batch = run_batch(district, BATCH)
    assert batch["result"]["counts"] == COUNTS
    assert setters(district, "g1", "email")["attendance"] == f"batch:{batch['id']}"
    assert export(district) != before

    undo = run_undo(district, batch["id"])

    assert undo["kind"] == "undo"
    assert undo["status"] == "succeeded"
    assert undo["undoOf"] == batch["id"]
    assert undo["result"]["targets"] == 2  # g1 and g2, as the batch
    assert undo["result"]["counts"] == COUNTS  # every value the batch changed comes back
    assert undo["result"]["conflicts"] == ZEROS
    assert undo["result"]["kept"] == ZEROS
    assert undo["changes"] == batch["changes"]
    assert export(district) == before
    # each setter is the one from before: the guardian's own choice, the import's values, and
    # "default" on the rows nobody had set
    assert setters(district, "g1", "email") == {
        "emergency": "import",
        "attendance": "guardian",
        "behavior": "import",
        "staff": "import",
        "general": "import",
        "foodService": "import",
        "priority": "import",
        "teacher": "import",
    }
    assert set(setters(district, "g2", "email").values()) == {"default"}
    assert view_of(district, batch["id"])["undoneBy"] == undo["id"]


def test_values_changed_after_the_batch_are_kept_and_counted_as_conflicts(district):
    batch = run_batch(district, BATCH)
    # A later batch sets g1's cell general off (a change: a conflict), and g2's email emergency
    # on, which it already is (no change: the first batch is still its setter, so undo restores).
    later = run_batch(
        district,
        {
            "mode": "studentContact",
            "scope": SCOPE,
            "changes": {"cellPhone": {"general": "off"}, "email": {"emergency": "on"}},
        },
    )
    assert later["result"]["counts"] == result_table(cellPhone__general=1, email__emergency=0)
    # A guardian sets g1's email emergency off: their choice since, a conflict too.
    guardian_sets_off(district, "g1", "email", "emergency")

    undo = run_undo(district, batch["id"])

    assert undo["result"]["counts"] == result_table(
        householdPhone__emergency=1, cellPhone__general=0, email__emergency=1, email__attendance=1
    )
    assert undo["result"]["conflicts"] == result_table(
        householdPhone__emergency=0, cellPhone__general=1, email__emergency=1, email__attendance=0
    )
    # the later batch's value and the guardian's value stand, with their setters
    assert values(district, "g1", "cellPhone")["general"] is False
    assert setters(district, "g1", "cellPhone")["general"] == f"batch:{later['id']}"
    assert values(district, "g1", "email")["emergency"] is False
    assert setters(district, "g1", "email")["emergency"] == "guardian"
    # restored: g2's emergency (off, default) and g1's attendance (on, guardian)
    assert values(district, "g2", "email")["emergency"] is False
    assert setters(district, "g2", "email")["emergency"] == "default"
    assert values(district, "g1", "email")["attendance"] is True
    assert setters(district, "g1", "email")["attendance"] == "guardian"


def test_an_undo_of_a_later_batch_lets_the_earlier_batch_be_undone_cleanly(district):
    before = export(district)
    first = run_batch(district, BATCH)
    second = run_batch(
        district,
        {"mode": "studentContact", "scope": SCOPE, "changes": {"cellPhone": {"general": "off"}}},
    )
    run_undo(district, second["id"])  # g1's cell general: on again, set by the first batch
    undo = run_undo(district, first["id"])
    assert undo["result"]["counts"] == COUNTS
    assert undo["result"]["conflicts"] == ZEROS
    assert export(district) == before


def test_what_cannot_be_undone_is_refused_with_the_reason(district):
    batch = run_batch(district, BATCH)
    undo = run_undo(district, batch["id"])
    preview = run_batch(district, BATCH | {"dryRun": True})
    with district.begin() as session:
        queued_id = submit(session, BATCH).batch.id
    refusals = {
        batch["id"]: f"batch {batch['id']} was undone already, by batch {undo['id']}",
        undo["id"]: f"batch {undo['id']} is an undo, which cannot be undone; "
        f"submit batch {batch['id']} again instead",
        preview["id"]: f"batch {preview['id']} is a preview; it changed nothing to undo",
        queued_id: f"batch {queued_id} is queued; undo it once it has finished",
    }
    for batch_id, message in refusals.items():
        with district.begin() as session, pytest.raises(Conflict) as refused:
            undo_batch(session, batch_id, user=None)
        assert str(refused.value) == message


def test_cancel_between_chunks_keeps_what_was_applied_and_undo_restores_it(district):
    before = export(district)
    with district.begin() as session:
        batch_id = submit(session, BATCH).batch.id
    now = datetime.now(UTC)
    with district.begin() as session:  # chunks of one target: g1 (chunk 0), g2 (chunk 1)
        messages = pipeline.plan(session, batch_id, 1, now)
    assert messages == [apply_chunk(batch_id, 0), apply_chunk(batch_id, 1)]
    with district.begin() as session:
        assert pipeline.run_chunk(session, batch_id, 0, now)
    with district.begin() as session:
        cancelled = cancel_batch(session, batch_id, user=None, now=now)
        assert (cancelled.batch.id, cancelled.messages) == (batch_id, ())  # nothing else queued
    drain(district, messages[1:], 1)  # chunk 1 arrives after the cancel: skipped

    view = view_of(district, batch_id)
    assert view["status"] == "cancelled"
    assert view["progress"] == {"done": 1, "total": 2, "people": {"done": 1, "total": 2}}
    assert (view["result"]["reached"], view["result"]["skipped"]) == (
        {"people": 1, "households": 1},
        {"noAddress": 0},
    )
    # g1 only: email emergency and attendance, cell general, and h1
    assert view["result"]["counts"] == result_table(
        householdPhone__emergency=1, cellPhone__general=1, email__emergency=1, email__attendance=1
    )
    assert values(district, "g2", "email")["emergency"] is False  # chunk 1 never applied

    undo = run_undo(district, batch_id, chunk_size=1)
    assert undo["progress"] == {"done": 1, "total": 1, "people": {"done": 1, "total": 1}}
    assert undo["result"]["targets"] == 1  # the persons the applied chunk reached: g1
    assert undo["result"]["counts"] == view["result"]["counts"]
    assert export(district) == before


def test_a_cancel_frees_the_next_batch_and_a_finished_batch_is_not_cancelled(district):
    with district.begin() as session:
        first_id = submit(session, BATCH).batch.id
        second_id = submit(session, BATCH).batch.id
    now = datetime.now(UTC)
    with district.begin() as session:
        pipeline.plan(session, first_id, 2, now)
        assert pipeline.plan(session, second_id, 2, now) == []  # waits for the first
    with district.begin() as session:
        freed = list(cancel_batch(session, first_id, user=None, now=now).messages)
    assert freed == [apply_chunk(second_id, 0)]
    drain(district, freed, 2)
    assert view_of(district, first_id)["result"]["counts"] == ZEROS
    assert view_of(district, second_id)["result"]["counts"] == COUNTS
    for batch_id, status in ((first_id, "cancelled"), (second_id, "succeeded")):
        with district.begin() as session, pytest.raises(Conflict) as refused:
            cancel_batch(session, batch_id, user=None, now=now)
        assert str(refused.value) == (
            f"batch {batch_id} has finished ({status}); there is nothing to stop"
        )


def test_undo_of_a_failed_batch_restores_the_part_applied(district):
    before = export(district)
    with district.begin() as session:
        batch_id = submit(session, BATCH).batch.id
    now = datetime.now(UTC)
    with district.begin() as session:
        pipeline.plan(session, batch_id, 1, now)
    with district.begin() as session:
        pipeline.run_chunk(session, batch_id, 1, now)  # g2: email emergency
    with district.begin() as session:
        pipeline.fail(session, batch_id, "chunk 0 failed: boom", now)
    failed = view_of(district, batch_id)
    assert (failed["status"], failed["result"]["errors"]) == ("failed", ["chunk 0 failed: boom"])
    assert failed["result"]["counts"] == result_table(
        householdPhone__emergency=0, cellPhone__general=0, email__emergency=1, email__attendance=0
    )
    undo = run_undo(district, batch_id, chunk_size=1)
    assert undo["result"]["counts"] == failed["result"]["counts"]
    assert export(district) == before
