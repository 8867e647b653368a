"""Writing a checked bundle: upserts by district identifier or natural key, in SQL.

Entity files (schools, calendars, people, households) are keyed by their district identifier;
link files by the natural key of their unique constraint (householdMembers: household, person,
startDate; enrollments: person, calendar, startDate; relationships: student, contact,
startDate; districtAssignments: person, school, title, startDate), an empty startDate counting
as one value. A row whose other columns differ is updated in place. Rows in the database but
absent from the file are left alone: an import adds and changes, it never deletes.

Each file is one UPDATE and one INSERT from its staging table, with every reference resolved to
an id by a join (the entities are written first).
"""

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Subquery,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session

from shared.core.db import rowcount
from shared.imports.native import preference_rows
from shared.imports.native.bulk_load import loading
from shared.imports.native.cells import boolean
from shared.imports.native.formats import ENTITY_TABLES, PREFERENCES, SPECS, FileSpec
from shared.imports.native.staging import staging
from shared.imports.native.summary import FILE_FIELDS, FileCounts, ImportSummary
from shared.imports.native.validate import Bundle
from shared.models import DefaultGrid, preferences


def write_bundle(session: Session, files: Bundle) -> ImportSummary:
    counts: dict[str, Any] = {}
    for spec in SPECS:
        if spec.table is not None and spec.name in files:
            with loading(session, spec.table):
                counts[FILE_FIELDS[spec.name]] = upsert(session, spec, files[spec.name].rows)
    staged = files.get(PREFERENCES.name)
    with loading(session, preferences):
        counts["preferences"] = preference_rows.apply(session, staged.rows if staged else 0)
    grid = session.execute(select(DefaultGrid.channel, DefaultGrid.mask))
    defaults = {channel: mask for channel, mask in grid}
    created = counts["preferences"].inserted + preference_rows.ensure_rows(session, defaults)
    return ImportSummary(**counts, preference_rows_created=created)


def upsert(session: Session, spec: FileSpec, rows: int) -> FileCounts:
    """Update the rows whose key exists and whose values differ, insert those whose key does
    not, from the `rows` staged rows of the file."""
    assert spec.table is not None
    table = spec.table
    source = staged_rows(spec)
    keys = [fld.db for fld in spec.fields if fld.column in spec.key and fld.db]
    values = [fld.db for fld in spec.fields if fld.column not in spec.key and fld.db]
    key_matches = same_key(spec, table, source)
    new: dict[str, ColumnElement[Any]] = {name: source.c[name] for name in values}
    for k, fld in enumerate(spec.fields):
        if fld.quarantine and fld.db:  # a quarantined address keeps the stored one
            new[fld.db] = case(
                (source.c.bad.bitwise_and(1 << k) != 0, table.c[fld.db]), else_=source.c[fld.db]
            )
    changed = or_(*(table.c[name].is_distinct_from(new[name]) for name in values))
    conditions = [key_matches, changed]
    if len(keys) > 1:  # a key with an empty cell is not unique in the table: take its first row
        earlier = table.alias("earlier")
        conditions.append(
            ~exists().where(earlier.c.id < table.c.id, same_key(spec, earlier, table))
        )
    updated = rowcount(
        session,
        update(table).where(*conditions).values(new),
    )
    new_rows = select(*(source.c[name] for name in keys + values)).where(
        ~exists().where(same_key(spec, table, source))
    )
    inserted = rowcount(session, insert(table).from_select(keys + values, new_rows))
    return FileCounts(inserted, updated, rows - inserted - updated)


def staged_rows(spec: FileSpec) -> Subquery:
    """The staged rows as the table's columns: references joined to their ids."""
    stage = staging(spec)
    joined: Any = stage
    columns: list[ColumnElement[Any]] = [stage.c.bad]
    for fld in spec.fields:
        if fld.db is None:
            continue
        cell = stage.c[fld.column]
        if fld.ref is not None:
            entity = ENTITY_TABLES[fld.ref].alias(f"{fld.column}_entity")
            on = entity.c.ext_id == cell
            joined = joined.join(entity, on) if fld.required else joined.outerjoin(entity, on)
            columns.append(entity.c.id.label(fld.db))
        elif fld.kind is boolean:
            columns.append((func.coalesce(cell, "false") == "true").label(fld.db))
        else:
            columns.append(cell.label(fld.db))
    return select(*columns).select_from(joined).subquery()


def same_key(spec: FileSpec, table: Any, other: Any) -> ColumnElement[bool]:
    """An empty cell of the key matches an empty one."""
    return and_(
        *(
            table.c[fld.db] == other.c[fld.db]
            if fld.required
            else table.c[fld.db].is_not_distinct_from(other.c[fld.db])
            for fld in spec.fields
            if fld.column in spec.key and fld.db
        )
    )
