"""Reading the rows whose column holds one of many values, in a way that stays fast at any size."""

from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, select
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


def rows_where_in(
    session: Session,
    columns: Sequence[ColumnElement[Any]],
    key: ColumnElement[Any],
    values: Collection[Any],
    *conditions: ColumnElement[bool],
) -> Iterator[tuple[Any, ...]]:
    """The rows (of `columns`, plus `key` last) whose `key` is one of `values`."""
    if not values:
        return
    statement = select(*columns, key).where(*conditions)
    if len(values) >= FULL_SCAN_AT:
        wanted = values if isinstance(values, set | frozenset | dict) else set(values)
        result = session.execute(statement.execution_options(yield_per=CHUNK))
        yield from (row for row in result if row[-1] in wanted)
        return
    for chunk in chunked(values):
        yield from session.execute(statement.where(key.in_(chunk)))


def ids_by_ext_id(session: Session, table: Table, ext_ids: Collection[str]) -> dict[str, int]:
    found = rows_where_in(session, [table.c.id], table.c.ext_id, ext_ids)
    return {ext_id: id_ for id_, ext_id in found}
