"""preferences.csv: applying its rows, in SQL (`preference_check` checks them first).

A preference row exists for every person channel with an address and every household with a
phone. Applying a row changes only the reasons where something differs (the value, or whether a
guardian set it), and those get the setter `guardian` (reason in guardianSet) or `import`; a
reason left as it was keeps its setter, which is what makes a re-import change nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    Table,
    and_,
    case,
    exists,
    insert,
    literal,
    or_,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite, rowcount
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASONS,
    SETTER_DEFAULT,
    SETTER_GUARDIAN,
    SETTER_IMPORT,
)
from shared.imports.native.formats import ENTITY_TABLES, HOUSEHOLDS, PEOPLE, PREFERENCES, FileSpec
from shared.imports.native.staging import staging
from shared.imports.native.summary import FileCounts
from shared.models import preferences
from shared.models.preferences import SETTER_COLUMNS

PEOPLE_TABLE = ENTITY_TABLES["person"]
HOUSEHOLDS_TABLE = ENTITY_TABLES["household"]


@dataclass(frozen=True)
class SubjectKind:
    name: str  # the subjectType
    spec: FileSpec  # the file that defines them
    table: Table
    addresses: dict[str, tuple[str, str]]  # channel -> its column in the file, in the table


SUBJECT_KINDS = (
    SubjectKind(
        "person",
        PEOPLE,
        PEOPLE_TABLE,
        {name: (name, column) for name, column in ADDRESS_COLUMN.items()},
    ),
    SubjectKind(
        "household", HOUSEHOLDS, HOUSEHOLDS_TABLE, {CHANNELS[HOUSEHOLD_PHONE]: ("phone", "phone")}
    ),
)


def apply(session: Session, rows: int) -> FileCounts:
    """Apply the `rows` staged rows of preferences.csv. Inserted: the preference row did not
    exist before this import."""
    if not rows:
        return FileCounts()
    source = _source()
    updated = rowcount(session, _update(source))
    inserted = rowcount(session, _insert(source))
    return FileCounts(inserted, updated, rows - inserted - updated)


def _source() -> Subquery:
    """The staged rows: subject id, channel number, mask, and for each reason k whether it is
    on (on_k) and whether a guardian set it (guardian_k), as 0 or 1. The statements below name
    the reasons' columns rather than the mask's bits: a subquery's expressions are computed
    again wherever they are named."""
    rows = staging(PREFERENCES)
    guardian_set = literal("|") + rows.c.guardianSet + "|"
    columns = [
        case({name: n for n, name in enumerate(CHANNELS)}, value=rows.c.channel).label("channel"),
        reduce(add, (rows.c[reason] * (1 << k) for k, reason in enumerate(REASONS))).label("mask"),
        *(rows.c[reason].label(f"on_{k}") for k, reason in enumerate(REASONS)),
        *(
            case((guardian_set.like(f"%|{reason}|%"), 1), else_=0).label(f"guardian_{k}")
            for k, reason in enumerate(REASONS)
        ),
    ]
    return union_all(
        *(
            select(kind.table.c.id.label("subject_id"), *columns)
            .join(kind.table, kind.table.c.ext_id == rows.c.subjectId)
            .where(rows.c.subjectType == kind.name)
            for kind in SUBJECT_KINDS
        )
    ).subquery()


def _matches(source: Subquery) -> ColumnElement[bool]:
    return and_(
        preferences.c.subject_id == source.c.subject_id,
        preferences.c.channel == source.c.channel,
    )


def _update(source: Subquery) -> Any:
    """A reason whose value, or whether a guardian set it, differs gets the import's setter."""
    new_setters = {}
    changes = [preferences.c.mask != source.c.mask]
    for k, name in enumerate(SETTER_COLUMNS):
        setter = preferences.c[name]
        value_differs = preferences.c.mask.bitwise_and(1 << k) != source.c[f"on_{k}"] * (1 << k)
        guardian_differs = (setter == SETTER_GUARDIAN) != (source.c[f"guardian_{k}"] == 1)
        changes.append(guardian_differs)
        new_setters[name] = case(
            (or_(value_differs, guardian_differs), _import_setter(source, k)), else_=setter
        )
    return (
        update(preferences)
        .where(_matches(source), or_(*changes))
        .values(mask=source.c.mask, **new_setters)
    )


def _insert(source: Subquery) -> Any:
    """A new row: the reasons that are on, or that a guardian set, get the import's setter."""
    setters = [
        case(
            (source.c[f"guardian_{k}"] == 1, SETTER_GUARDIAN),
            (source.c[f"on_{k}"] == 1, SETTER_IMPORT),
            else_=SETTER_DEFAULT,
        )
        for k in range(len(REASONS))
    ]
    rows = select(source.c.subject_id, source.c.channel, source.c.mask, *setters).where(
        ~exists().where(_matches(source))
    )
    return insert(preferences).from_select(["subject_id", "channel", "mask", *SETTER_COLUMNS], rows)


def _import_setter(source: Subquery, k: int) -> ColumnElement[int]:
    return case((source.c[f"guardian_{k}"] == 1, SETTER_GUARDIAN), else_=SETTER_IMPORT)


def ensure_rows(session: Session, defaults: Mapping[int, int]) -> int:
    """Create the missing preference rows: an address added where there was none gets the
    district's default grid (`defaults`: channel -> mask; a channel not in it is all off). As
    for a new row of preferences.csv, a reason the grid turns on has the import as its setter,
    and one it leaves off is as never set (`default`). Returns how many were created."""
    addresses: list[tuple[int, Table, ColumnElement[Any]]] = [
        (HOUSEHOLD_PHONE, HOUSEHOLDS_TABLE, HOUSEHOLDS_TABLE.c.phone)
    ] + [
        (CHANNELS.index(name), PEOPLE_TABLE, PEOPLE_TABLE.c[column])
        for name, column in ADDRESS_COLUMN.items()
    ]
    wanted = union_all(
        *(
            select(
                table.c.id.label("subject_id"),
                literal(channel).label("channel"),
                literal(mask := defaults.get(channel, 0)).label("mask"),
                *(
                    literal(SETTER_IMPORT if mask >> k & 1 else SETTER_DEFAULT).label(name)
                    for k, name in enumerate(SETTER_COLUMNS)
                ),
            ).where(address.is_not(None), address != "")
            for channel, table, address in addresses
        )
    ).subquery()
    # ON CONFLICT rather than NOT EXISTS: on an empty table the planner may pick a nested loop
    # that scans the rows this statement has inserted so far, once per row (minutes at 100,000).
    targets = ["subject_id", "channel", "mask", *SETTER_COLUMNS]
    insert = sqlite_insert if is_sqlite(session) else postgresql_insert
    # `WHERE true`: SQLite's parser needs a WHERE before an INSERT ... SELECT's ON CONFLICT.
    statement = insert(preferences).from_select(targets, select(wanted).where(true()))
    return rowcount(session, statement.on_conflict_do_nothing())
