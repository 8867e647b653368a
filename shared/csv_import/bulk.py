"""Inserting many rows at once: COPY on PostgreSQL, a multi-row executemany elsewhere."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.orm import Session

from shared.db import is_sqlite


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (dicts with the same keys) within the session's transaction."""
    if not rows:
        return
    if is_sqlite(session):
        session.execute(insert(table), rows)
        return
    # COPY is several times faster than psycopg's pipelined executemany for big imports.
    columns = list(rows[0])
    quote = session.get_bind().dialect.identifier_preparer
    statement = (
        f"COPY {quote.format_table(table)} ({', '.join(quote.quote(c) for c in columns)}) "
        "FROM STDIN"
    )
    driver_connection: Any = session.connection().connection.driver_connection
    with driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([row[column] for column in columns])
