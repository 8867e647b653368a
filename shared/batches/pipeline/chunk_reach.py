"""Whom one chunk of a batch reached (docs/batches.md, "The result"), counted in the chunk's
transaction with one statement over its targets and one over its households:

- its people: the chunk's targets;
- reached people: targets with an address on a channel the batch sets (for the household
  phone: an active membership, as of the batch's date, in a household that has a phone);
- reached households: the chunk's households whose phone the batch sets (with only Staff set
  there, those reached through a staff target, as the chunk applies it).

A target that is not reached is skipped for having no address. Addresses do not change while a
batch runs (imports take their turn between batches), so the counts are the same whether taken
before or after the chunk applies, and a dry run counts what applying would.
"""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, bindparam, text
from sqlalchemy.orm import Session

from shared.batches.pipeline.chunk_apply import channel_options
from shared.core.grids import Grid
from shared.core.vocabulary import ADDRESS_COLUMN, CHANNELS, HOUSEHOLD_PHONE, STAFF_BIT

HOUSEHOLD_PHONE_OF_TARGET = (
    "EXISTS (SELECT 1 FROM household_members m JOIN households h ON h.id = m.household_id "
    "WHERE m.person_id = s.person_id AND h.phone <> '' "
    "AND (m.start_date IS NULL OR m.start_date <= :as_of) "
    "AND (m.end_date IS NULL OR m.end_date >= :as_of))"
)


@dataclass(frozen=True)
class ChunkReach:
    people: int
    reached_people: int
    reached_households: int


def chunk_reach(
    session: Session, batch_id: int, chunk_no: int, changes: Grid, as_of: date
) -> ChunkReach:
    options = channel_options(changes)
    household = [o for o in options if o.channel == HOUSEHOLD_PHONE]
    reached = [
        f"a.{ADDRESS_COLUMN[CHANNELS[o.channel]]} <> ''"
        for o in options
        if o.channel != HOUSEHOLD_PHONE
    ]
    if household:
        reached.append(HOUSEHOLD_PHONE_OF_TARGET)
    where = {"batch_id": batch_id, "chunk_no": chunk_no}
    targets = text(
        "SELECT COUNT(*), "
        f"COALESCE(SUM(CASE WHEN {' OR '.join(reached) or '1 = 0'} THEN 1 ELSE 0 END), 0) "
        "FROM batch_targets s JOIN people a ON a.id = s.person_id "
        "WHERE s.batch_id = :batch_id AND s.chunk_no = :chunk_no"
    )
    if household:
        targets = targets.bindparams(bindparam("as_of", as_of, type_=Date))
    people, reached_people = session.execute(targets, where).one()
    households = 0
    if household:
        staff_only = " AND s.is_staff" if household[0].set_mask == STAFF_BIT else ""
        households = session.scalar(
            text(
                "SELECT COUNT(*) FROM batch_households s "
                "JOIN households a ON a.id = s.household_id "
                "WHERE a.phone <> '' AND s.batch_id = :batch_id AND s.chunk_no = :chunk_no"
                f"{staff_only}"
            ),
            where,
        )
    return ChunkReach(int(people), int(reached_people), int(households or 0))


def undo_chunk_people(session: Session, original_id: int, chunk_no: int) -> int:
    """The people of the original batch's chunk that an undo chunk restores."""
    return int(
        session.scalar(
            text(
                "SELECT COUNT(*) FROM batch_targets "
                "WHERE batch_id = :batch_id AND chunk_no = :chunk_no"
            ),
            {"batch_id": original_id, "chunk_no": chunk_no},
        )
        or 0
    )
