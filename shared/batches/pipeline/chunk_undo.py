"""Undoing one chunk of a batch (docs/batches.md, "Undo"), in the caller's transaction, with
set-based SQL.

An undo works through the original batch's change log, chunk by chunk with the original's chunk
numbers. A value is restored only if it is still what the batch left: the same bit, and the
batch still its setter. Anything else set it since (a later batch, a guardian, a clerk, an
import), so it stays, and is counted as a conflict. The undo writes its own change log rows
(before = the value now, after = the value restored, changed = restored, kept = conflicts) and
then restores values and setters from the original's log, so its counts come from
`logged_counts` like a batch's.
"""

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.batches.pipeline.chunk_apply import logged_counts, write_logged, xor_sql
from shared.batches.result import Matrix
from shared.core.db import is_sqlite
from shared.models.preferences import SETTER_COLUMNS


def _still_as_left(original_id: int) -> str:
    """SQL of the bits of `o.changed_mask` whose value and setter are still what the batch left."""
    by_setter = " + ".join(
        f"CASE WHEN p.{column} = {original_id} THEN {1 << k} ELSE 0 END"
        for k, column in enumerate(SETTER_COLUMNS)
    )
    different_now = xor_sql("p.mask", "o.after_mask")
    return (
        f"(o.changed_mask & ({by_setter})) - (o.changed_mask & ({by_setter}) & ({different_now}))"
    )


def log_undo(session: Session, undo_id: int, original_id: int, chunk_no: int) -> None:
    lock = "" if is_sqlite(session) else " FOR UPDATE OF p"
    restored = "c.restorable"
    session.execute(
        text(
            "INSERT INTO change_log (batch_id, channel, subject_id, chunk_no, before_mask, "
            f"after_mask, changed_mask, kept_mask, {', '.join(SETTER_COLUMNS)}) "
            "SELECT :undo_id, c.channel, c.subject_id, :chunk_no, c.mask, "
            f"c.mask - (c.mask & {restored}) + (c.before_mask & {restored}), {restored}, "
            f"c.changed_mask - {restored}, {', '.join('c.' + column for column in SETTER_COLUMNS)} "
            "FROM (SELECT p.subject_id, p.channel, p.mask, o.before_mask, o.changed_mask, "
            f"{', '.join('p.' + column for column in SETTER_COLUMNS)}, "
            f"{_still_as_left(original_id)} AS restorable "
            "FROM change_log o JOIN preferences p "
            "ON p.subject_id = o.subject_id AND p.channel = o.channel "
            "WHERE o.batch_id = :original_id AND o.chunk_no = :chunk_no AND o.changed_mask <> 0"
            f"{lock}) c"
        ),
        {"undo_id": undo_id, "original_id": original_id, "chunk_no": chunk_no},
    )


def restore_logged(session: Session, undo_id: int, original_id: int, chunk_no: int) -> None:
    """Write the restorable values back, each with the setter it had before the batch (from
    the original's log row, `o`)."""
    write_logged(
        session,
        undo_id,
        chunk_no,
        setter=lambda column: f"o.{column}",
        join="JOIN change_log o ON o.batch_id = :original_id AND o.channel = l.channel "
        "AND o.subject_id = l.subject_id ",
        params={"original_id": original_id},
    )


def undo_chunk(
    session: Session, undo_id: int, original_id: int, chunk_no: int
) -> tuple[Matrix, Matrix]:
    """Restore one chunk; returns (restored, conflicts) per channel and reason."""
    log_undo(session, undo_id, original_id, chunk_no)
    restore_logged(session, undo_id, original_id, chunk_no)
    return logged_counts(session, undo_id, chunk_no)
