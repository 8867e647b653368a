"""Filling an empty table on PostgreSQL: its foreign keys and secondary indexes are dropped for
the load and made again after it, with the same names and definitions, as pg_restore does. One
check of each foreign key and one sorted build of each index then replace a check and an index
insertion per row, which is most of the time of a first import.

The price: from the drop to the end of the transaction the table, and the tables its foreign
keys refer to, are locked for everyone (ACCESS EXCLUSIVE), which only a first import of a table
pays. A table that already has rows, or that the importing role does not own (and so may not
alter), is loaded as it is. The statements are made from the catalog's own definitions, never
from the bundle.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Table, literal, select, text
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite

_OWNED = text(
    "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = CAST(:table AS regclass)"
)
_CONSTRAINTS = text(
    "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
    "WHERE conrelid = CAST(:table AS regclass) AND contype IN ('f', 'u') ORDER BY contype DESC"
)
_INDEXES = text(
    "SELECT CAST(CAST(indexrelid AS regclass) AS text), pg_get_indexdef(indexrelid) "
    "FROM pg_index WHERE indrelid = CAST(:table AS regclass) AND NOT indisprimary "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)"
)


@contextmanager
def loading(session: Session, table: Table) -> Iterator[None]:
    """The block fills `table`: without its foreign keys and secondary indexes if it is empty."""
    quote = session.get_bind().dialect.identifier_preparer
    name = quote.format_table(table)
    if (
        is_sqlite(session)
        or session.execute(select(literal(1)).select_from(table).limit(1)).first()
        or not session.scalar(_OWNED, {"table": name})
    ):
        yield
        return
    constraints = session.execute(_CONSTRAINTS, {"table": name}).all()  # unique ones first
    indexes = session.execute(_INDEXES, {"table": name}).all()
    for constraint, _, _ in constraints:
        session.execute(text(f"ALTER TABLE {name} DROP CONSTRAINT {quote.quote(constraint)}"))
    for index, _ in indexes:
        session.execute(text(f"DROP INDEX {index}"))
    yield
    for _, definition in indexes:
        session.execute(text(definition))
    for constraint, definition, _ in constraints:
        session.execute(
            text(f"ALTER TABLE {name} ADD CONSTRAINT {quote.quote(constraint)} {definition}")
        )
    session.execute(text(f"ANALYZE {name}"))  # the next files join it
