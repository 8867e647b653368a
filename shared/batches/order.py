"""Submission order is id order: batches apply in the order they were submitted
(docs/batches.md, "Order").

The pipeline runs the active batch with the lowest id. Ids come from a sequence, so two
submissions at the same moment could commit in the opposite order to their ids: the later id
would be seen first, run first, and then be overwritten by the earlier one. Every transaction
that adds a batch therefore takes its turn first, so ids are given out in commit order.
"""

from typing import Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite

# pg_advisory_xact_lock key for adding batches: "cpb" and 1.
SUBMISSION_LOCK: Final = 0x637062_01


def take_submission_turn(session: Session) -> None:
    """Wait until no other transaction is adding a batch; held until this one ends. On SQLite
    the transaction holds the database's one write lock already (BEGIN IMMEDIATE)."""
    if not is_sqlite(session):
        session.execute(select(func.pg_advisory_xact_lock(SUBMISSION_LOCK)))
