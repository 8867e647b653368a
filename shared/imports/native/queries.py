"""Small pieces of SQL the import shares."""

from collections.abc import Collection, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

T = TypeVar("T")

# Bound parameters per IN list: well under SQLite's limit, small enough for any planner.
CHUNK = 1000
# Past this many values one streamed pass over the table beats thousands of IN queries.
FULL_SCAN_AT = 20 * CHUNK


def chunked(values: Iterable[T], size: int = CHUNK) -> Iterator[list[T]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, size)):
        yield chunk


def existing_ext_ids(session: Session, table: Table, ext_ids: Collection[str]) -> set[str]:
    """Those of `ext_ids` that the table holds."""
    column = table.c.ext_id
    if len(ext_ids) >= FULL_SCAN_AT:
        wanted = ext_ids if isinstance(ext_ids, set | frozenset | dict) else set(ext_ids)
        result = session.execute(select(column).execution_options(yield_per=CHUNK))
        return {ext_id for ext_id in result.scalars() if ext_id in wanted}
    found: set[str] = set()
    for chunk in chunked(ext_ids):
        found.update(session.scalars(select(column).where(column.in_(chunk))))
    return found
