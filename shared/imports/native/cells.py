"""How each cell of the native CSV bundle is read: a Kind says how.

`check` takes a stripped, non-empty cell and raises CellError saying what is wrong with it; the
fast path (`plain_lines`) tests whole rows at once with `max_length` and `accepts` instead. Those
are only a filter: a cell they refuse is checked by `check`, which decides. A cell is kept as the
text of the file, typed by its staging column (`staging`) and by the SQL that writes it.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from sqlalchemy import Date, Integer, String
from sqlalchemy.types import TypeEngine

from shared.core.vocabulary import CHANNELS, REASONS, is_text_message_word


class CellError(ValueError):
    """A cell that cannot be read; the message says what is wrong with it."""


@dataclass(frozen=True)
class Kind:
    check: Callable[[str], None]
    max_length: int | None = None  # fast path: a longer cell is checked by `check`
    accepts: Callable[[str], object] | None = None  # fast path: true only of cells that pass
    staged: type[TypeEngine[Any]] = String  # how the staging table holds the cell


class Remembered:
    """A check that remembers the cells it passed, for the fast path to look up: a bundle
    repeats the same few hundred dates. The empty cell counts as passed (an optional cell)."""

    LIMIT = 100_000

    def __init__(self, check: Callable[[str], None]) -> None:
        self._check = check
        self.known = {""}

    def __call__(self, cell: str) -> None:
        self._check(cell)
        if len(self.known) < self.LIMIT:
            self.known.add(cell)

    def kind(self, staged: type[TypeEngine[Any]] = String) -> Kind:
        return Kind(self, accepts=self.known.__contains__, staged=staged)


def _at_most(max_length: int, cell: str) -> None:
    if len(cell) > max_length:
        raise CellError(f"longer than {max_length} characters")


def text(max_length: int) -> Kind:
    return Kind(partial(_at_most, max_length), max_length=max_length)


def one_of(words: frozenset[str], check: Callable[[str], None]) -> Kind:
    return Kind(check, accepts=words.__contains__)


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # ASCII digits only, unlike \d
_SCHOOL_YEAR = re.compile(r"([0-9]{4})-([0-9]{2})")


def _iso_date(cell: str) -> None:
    if _DATE.fullmatch(cell):
        try:
            date.fromisoformat(cell)
            return
        except ValueError:
            pass
    raise CellError(f"{cell!r} is not a date (YYYY-MM-DD)")


def _boolean(cell: str) -> None:
    if cell not in ("true", "false"):
        raise CellError(f"{cell!r} is not true or false")


def _school_year(cell: str) -> None:
    match = _SCHOOL_YEAR.fullmatch(cell)
    if match is None or (int(match[1]) + 1) % 100 != int(match[2]):
        raise CellError(f"{cell!r} is not a school year like 2025-26")


def _subject_type(cell: str) -> None:
    if cell not in ("person", "household"):
        raise CellError(f"{cell!r} is not person or household")


def _channel(cell: str) -> None:
    if cell in CHANNELS:
        return
    if is_text_message_word(cell):
        raise CellError(f"{cell!r}: text-message preferences cannot be imported")
    raise CellError(f"unknown channel {cell!r}")


def _flag(cell: str) -> None:
    if cell not in ("0", "1"):
        raise CellError(f"{cell!r} is not 0 or 1")


def _reason_set(cell: str) -> None:
    """`|`-separated reasons, each known and named once."""
    seen: set[str] = set()
    for reason in cell.split("|"):
        if reason == "":
            raise CellError(f"an empty reason in {cell!r}")
        if reason not in REASONS:
            if is_text_message_word(reason):
                raise CellError(f"{reason!r}: text-message preferences cannot be imported")
            raise CellError(f"unknown reason {reason!r}")
        if reason in seen:
            raise CellError(f"{reason!r} appears twice")
        seen.add(reason)


identifier = text(64)
iso_date = Remembered(_iso_date).kind(Date)
boolean = one_of(frozenset(("", "true", "false")), _boolean)
school_year = Remembered(_school_year).kind()
subject_type = one_of(frozenset(("person", "household")), _subject_type)
channel = one_of(frozenset(CHANNELS), _channel)
flag = Kind(_flag, accepts=frozenset(("0", "1")).__contains__, staged=Integer)
reason_set = Remembered(_reason_set).kind()
