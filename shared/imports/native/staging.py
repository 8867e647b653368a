"""Staging tables: every row of every file, as read, in a temporary table of its own.

The checks that look across rows (duplicates, preference addresses) and the writes are SQL over
these tables, so a bundle of any size is never held in memory. A staging table has the file's
columns under their CSV names, typed as the cells were checked (dates as dates, 0/1 flags as
integers, the rest as text, an empty cell as NULL), plus the row's line and its `bad` mask
(bit k: spec.fields[k] could not be read; see shared.imports.native.reading).
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Column, Integer, MetaData, Table, text
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite
from shared.imports.native.formats import SPECS, FileSpec
from shared.imports.native.summary import FILE_FIELDS

_METADATA = MetaData()
STAGING: dict[str, Table] = {
    spec.name: Table(
        f"import_{FILE_FIELDS[spec.name]}",
        _METADATA,
        Column("line", Integer, nullable=False),
        Column("bad", Integer, nullable=False),
        *(Column(fld.column, fld.kind.staged()) for fld in spec.fields),
        prefixes=["TEMPORARY"],
    )
    for spec in SPECS
}
BATCH = 5000  # rows per write to the database

AddRow = Callable[[int, int, list[str], str], None]


def staging(spec: FileSpec) -> Table:
    return STAGING[spec.name]


@contextmanager
def staging_tables(session: Session) -> Iterator[None]:
    """The staging tables, empty, for the block; dropped after it unless it failed (a failed
    transaction is rolled back, which drops them)."""
    connection = session.connection()
    for table in STAGING.values():
        # IF EXISTS: one may be left on this connection by an import that failed and was kept.
        connection.execute(text(f"DROP TABLE IF EXISTS {_name(session, table)}"))
        table.create(connection)
    yield
    for table in STAGING.values():
        connection.execute(text(f"DROP TABLE {_name(session, table)}"))


@contextmanager
def stage_rows(session: Session, spec: FileSpec) -> Iterator[AddRow]:
    """`add(line, bad, cells, csv_line)` for each row of the file, in spec order; COPY on
    PostgreSQL (as CSV: an empty cell is NULL), batched inserts elsewhere."""
    table = staging(spec)
    quote = session.get_bind().dialect.identifier_preparer
    into = f"{_name(session, table)} ({', '.join(quote.quote(c.name) for c in table.columns)})"
    if is_sqlite(session):
        marks = ", ".join("?" * len(table.columns))
        with _batched(session, f"INSERT INTO {into} VALUES ({marks})") as add:
            yield add
        return
    copy_statement = f"COPY {into} FROM STDIN (FORMAT csv)"
    driver_connection: Any = session.connection().connection.driver_connection
    with driver_connection.cursor() as cursor, cursor.copy(copy_statement) as copy:
        lines: list[str] = []

        def add(line: int, bad: int, cells: list[str], csv_line: str) -> None:
            lines.append(f"{line},{bad},{csv_line}\n")
            if len(lines) == BATCH:
                copy.write("".join(lines))
                lines.clear()

        yield add
        copy.write("".join(lines))
    session.execute(text(f"ANALYZE {_name(session, table)}"))  # temporary: no autovacuum


def _name(session: Session, table: Table) -> str:
    return str(session.get_bind().dialect.identifier_preparer.format_table(table))


@contextmanager
def _batched(session: Session, statement: str) -> Iterator[AddRow]:
    connection = session.connection()
    rows: list[tuple[Any, ...]] = []

    def add(line: int, bad: int, cells: list[str], csv_line: str) -> None:
        rows.append((line, bad, *(cell or None for cell in cells)))
        if len(rows) == BATCH:
            connection.exec_driver_sql(statement, rows)
            rows.clear()

    yield add
    if rows:
        connection.exec_driver_sql(statement, rows)
