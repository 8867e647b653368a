"""Writing a checked bundle: upserts by district identifier or natural key, in bulk.

Entity files (schools, calendars, people, households) are keyed by their district identifier;
link files by the natural key of their unique constraint (householdMembers: household, person,
startDate; enrollments: person, calendar, startDate; relationships: student, contact,
startDate; districtAssignments: person, school, title, startDate), an empty startDate counting
as one value. A row whose other columns differ is updated in place. Rows in the database but
absent from the file are left alone: an import adds and changes, it never deletes.
"""

from collections import defaultdict
from collections.abc import Iterator, MutableMapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.orm import Session

from shared.csv_import import preference_rows
from shared.csv_import.bulk import insert_rows
from shared.csv_import.formats import ENTITY_TABLES, PREFERENCES, SPECS, FileSpec
from shared.csv_import.lookup import ids_by_ext_id, rows_where_in
from shared.csv_import.reading import ParsedFile
from shared.csv_import.summary import FILE_FIELDS, FileCounts, ImportSummary

Ids = dict[str, dict[str, int]]


def write_bundle(session: Session, files: MutableMapping[str, ParsedFile]) -> ImportSummary:
    """Write the checked `files`, consuming them: each file's rows are let go once written,
    which keeps the memory of a big import near that of its largest file."""
    ids: Ids = {entity: {} for entity in ENTITY_TABLES}
    counts: dict[str, Any] = {}
    for spec in SPECS:
        if spec is PREFERENCES or spec.name not in files or spec.table is None:
            continue
        parsed = files.pop(spec.name)
        _resolve(session, parsed, ids)
        rows = [_db_row(spec, values, ids) for values in (row.values for row in parsed.rows)]
        counts[FILE_FIELDS[spec.name]] = upsert(
            session, spec.table, spec.db_key(), spec.db_values(), rows
        )
        del parsed, rows
    preferences_file = files.pop(PREFERENCES.name, None)
    if preferences_file is not None:
        _resolve(session, preferences_file, ids)
    counts["preferences"], created = preference_rows.apply(session, preferences_file, ids)
    return ImportSummary(**counts, preference_rows_created=created)


def upsert(
    session: Session,
    table: Table,
    key: Sequence[str],
    values: Sequence[str],
    rows: list[dict[str, Any]],
) -> FileCounts:
    """Insert the rows whose key is new, update those whose values differ, by bulk statements.
    Keys are compared in Python, so an empty (NULL) key column matches an empty one."""
    columns = [table.c.id, *(table.c[name] for name in key[1:]), *(table.c[n] for n in values)]
    wanted = {row[key[0]] for row in rows}
    existing: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
    for found in rows_where_in(session, columns, table.c[key[0]], wanted):
        row_key = (found[-1], *found[1 : len(key)])
        existing.setdefault(row_key, (found[0], tuple(found[len(key) : -1])))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for row in rows:
        old = existing.get(tuple(row[name] for name in key))
        new_values = tuple(row[name] for name in values)
        if old is None:
            inserts.append(row)
        elif old[1] != new_values:
            updates.append({"k_id": old[0], **{f"v_{n}": row[n] for n in values}})
    insert_rows(session, table, inserts)
    if updates:
        statement = (
            update(table)
            .where(table.c.id == bindparam("k_id"))
            .values({name: bindparam(f"v_{name}") for name in values})
        )
        session.execute(statement, updates)
    return FileCounts(len(inserts), len(updates), len(rows) - len(inserts) - len(updates))


def _resolve(session: Session, parsed: ParsedFile, ids: Ids) -> None:
    """Learn the database ids of every identifier the file refers to (all written by now)."""
    missing: dict[str, set[str]] = defaultdict(set)
    for entity, ext_id in _references(parsed):
        if ext_id not in ids[entity]:
            missing[entity].add(ext_id)
    for entity, ext_ids in missing.items():
        ids[entity].update(ids_by_ext_id(session, ENTITY_TABLES[entity], ext_ids))


def _references(parsed: ParsedFile) -> Iterator[tuple[str, str]]:
    if parsed.spec is PREFERENCES:  # subjectType, subjectId
        yield from ((row.values[0], row.values[1]) for row in parsed.rows)
        return
    for at, fld in enumerate(parsed.spec.fields):
        if fld.ref is not None:
            for row in parsed.rows:
                if row.values[at] is not None:
                    yield fld.ref, row.values[at]


def _db_row(spec: FileSpec, values: tuple[Any, ...], ids: Ids) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for fld, value in zip(spec.fields, values, strict=True):
        if fld.db is None:
            continue
        row[fld.db] = ids[fld.ref][value] if fld.ref and value is not None else value
    return row
