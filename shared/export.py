"""The preference export (SPEC section 7), streamed from the database in server-side batches.

One row per (subject, channel with an address): households first, then people, each by their
district identifier in code-point order (COLLATE "C" on PostgreSQL, SQLite's BINARY), then by
channel order, so that both databases give byte-identical files.
"""

from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import ColumnElement, Select, case, select
from sqlalchemy.orm import Session

from shared.csv_lines import csv_line_writer
from shared.db import code_point_order
from shared.models import Household, Person, preferences
from shared.models.preferences import SETTER_COLUMNS
from shared.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASONS,
    SETTER_GUARDIAN,
)

HEADER = ("subjectType", "subjectId", "channel", "address", *REASONS, "guardianSet")
BATCH_ROWS = 5000


def iter_preferences_csv(session: Session, batch_rows: int = BATCH_ROWS) -> Iterator[str]:
    """The export as CSV lines (each ending in CRLF), the header first."""
    line = csv_line_writer()

    yield line(HEADER)
    for kind, statement in (("household", _households(session)), ("person", _people(session))):
        result = session.execute(statement.execution_options(yield_per=batch_rows))
        for ext_id, channel, address, mask, *setters in result:
            yield line(_cells(kind, ext_id, channel, address, mask, setters))


def write_preferences_csv(session: Session, out: TextIO) -> int:
    """Write the export to `out`; returns the number of rows (the header not counted)."""
    rows = -1
    for text in iter_preferences_csv(session):
        out.write(text)
        rows += 1
    return rows


def _cells(
    kind: str, ext_id: str, channel: int, address: str, mask: int, setters: list[int]
) -> list[Any]:
    values = [mask >> k & 1 for k in range(len(REASONS))]
    by_guardian = "|".join(r for r, s in zip(REASONS, setters, strict=True) if s == SETTER_GUARDIAN)
    return [kind, ext_id, CHANNELS[channel], address, *values, by_guardian]


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
    return [preferences.c.mask, *(preferences.c[name] for name in SETTER_COLUMNS)]
