"""The preference export (see README.md), streamed from the database in server-side batches.

One row per (subject, channel with an address): households first, then people, each by their
district identifier in code-point order (COLLATE "C" on PostgreSQL, SQLite's BINARY), then by
channel order, so that both databases give byte-identical files. An identifier or address a
spreadsheet would run as a formula is written with a leading `'` (shared.core.spreadsheet),
which the native import takes off again.
"""

from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Select, case, literal, select
from sqlalchemy.orm import Session

from shared.core.csv_lines import csv_line_writer
from shared.core.db import code_point_order
from shared.core.spreadsheet import neutralized
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASONS,
    SETTER_GUARDIAN,
)
from shared.models import Household, Person, preferences
from shared.models.preferences import SETTER_COLUMNS

HEADER = ("subjectType", "subjectId", "channel", "address", *REASONS, "guardianSet")
BATCH_ROWS = 5000
# A row's reasons as their cells ("1,0,..."), by mask, and its guardianSet cell, by the mask of
# the reasons a guardian set: made once, so a row costs a few lookups.
_VALUES = [",".join(str(mask >> k & 1) for k in range(len(REASONS))) for mask in range(256)]
_BY_GUARDIAN = ["|".join(r for k, r in enumerate(REASONS) if mask >> k & 1) for mask in range(256)]
_SPECIAL = frozenset(',"\r\n')


def iter_preferences_csv(session: Session, batch_rows: int = BATCH_ROWS) -> Iterator[str]:
    """The export as CSV text (lines ending in CRLF), the header first, in blocks of up to
    `batch_rows` rows."""
    for block, _rows in _blocks(session, batch_rows):
        yield block


def write_preferences_csv(session: Session, out: TextIO) -> int:
    """Write the export to `out`; returns the number of rows (the header not counted)."""
    rows = 0
    for block, count in _blocks(session, BATCH_ROWS):
        out.write(block)
        rows += count
    return rows


def _blocks(session: Session, batch_rows: int) -> Iterator[tuple[str, int]]:
    """Blocks of CSV text, each with the number of data rows in it."""
    yield csv_line_writer()(HEADER), 0
    connection = session.connection()  # Core rows: the ORM adds nothing to read here
    for kind, statement in (("household", _households(session)), ("person", _people(session))):
        result = connection.execute(statement.execution_options(yield_per=batch_rows))
        for rows in result.partitions():
            block = [
                f"{kind},{_cell(neutralized(ext_id))},{CHANNELS[channel]},"
                f"{_cell(neutralized(address))},"
                f"{_VALUES[mask]},{_BY_GUARDIAN[guardian]}\r\n"
                for ext_id, channel, address, mask, guardian in rows
            ]
            yield "".join(block), len(block)


def _cell(text: str) -> str:
    """A cell as the csv module writes it (QUOTE_MINIMAL): quoted when it holds a comma, a
    quote or a line break, its quotes doubled."""
    if _SPECIAL.isdisjoint(text):
        return text
    return '"' + text.replace('"', '""') + '"'


def _households(session: Session) -> Select[Any]:
    household = Household.__table__.c
    return (
        select(household.ext_id, preferences.c.channel, household.phone, *_values())
        .join_from(preferences, Household, household.id == preferences.c.subject_id)
        .where(
            preferences.c.channel == HOUSEHOLD_PHONE,
            household.phone.is_not(None),
            household.phone != "",
        )
        .order_by(code_point_order(session, household.ext_id))
    )


def _people(session: Session) -> Select[Any]:
    person = Person.__table__.c
    address = case(
        {CHANNELS.index(name): person[column] for name, column in ADDRESS_COLUMN.items()},
        value=preferences.c.channel,
    )
    return (
        select(person.ext_id, preferences.c.channel, address, *_values())
        .join_from(preferences, Person, person.id == preferences.c.subject_id)
        .where(preferences.c.channel != HOUSEHOLD_PHONE, address.is_not(None), address != "")
        .order_by(code_point_order(session, person.ext_id), preferences.c.channel)
    )


def _values() -> list[ColumnElement[int]]:
    """The mask, and the mask of the reasons whose last setter is a guardian."""
    guardian = sum(
        (
            case((preferences.c[column] == SETTER_GUARDIAN, 1 << k), else_=0)
            for k, column in enumerate(SETTER_COLUMNS)
        ),
        start=literal(0),
    )
    return [preferences.c.mask, guardian]
