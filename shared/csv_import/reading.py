"""Reading one CSV file of a bundle into typed rows, noting every problem on the way."""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from shared.csv_import.formats import SPECS, CellError, FileSpec, Text


class _Invalid:
    """The value of a cell that could not be read (or of a column the header lacks)."""

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()
ROW: Final = "(row)"
HEADER: Final = "(header)"
FILE: Final = "(file)"

_FILE_ORDER = {spec.name: n for n, spec in enumerate(SPECS)}


@dataclass
class Problems:
    """Problems as `file:line: column: what is wrong`, reported in file, line, column order."""

    _found: list[tuple[int, int, int, int, str]] = field(default_factory=list)

    def add(
        self, spec: FileSpec, line: int, column: str, message: str, order: int | None = None
    ) -> None:
        """`order` places the problem among those of its line; by default, the column's."""
        if order is None:
            order = spec.columns.index(column) if column in spec.columns else -1
        text = f"{spec.name}:{line}: {column}: {message}"
        self._found.append((_FILE_ORDER[spec.name], line, order, len(self._found), text))

    def __bool__(self) -> bool:
        return bool(self._found)

    def sorted(self) -> list[str]:
        return [found[-1] for found in sorted(self._found)]


@dataclass(frozen=True, slots=True)  # slots: a bundle holds millions of rows
class Row:
    line: int
    values: tuple[Any, ...]  # in spec.fields order; INVALID where the cell is bad


@dataclass
class ParsedFile:
    spec: FileSpec
    rows: list[Row]
    present: frozenset[str]  # the spec's columns that the header has
    complete: bool  # False when reading stopped early: the file may hold more than `rows`

    def index(self, column: str) -> int:
        return self.spec.columns.index(column)


def read_file(path: Path, spec: FileSpec, problems: Problems) -> ParsedFile:
    rows: list[Row] = []
    positions: dict[str, int] = {}
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader, None)
            if header is None:
                problems.add(spec, 1, HEADER, "the file is empty; a header row is required")
                return ParsedFile(spec, rows, frozenset(), complete=True)
            positions = _check_header(spec, [cell.strip() for cell in header], problems)
            for line, cells in _numbered(reader):
                if cells:
                    rows.append(_parse_row(spec, line, cells, len(header), positions, problems))
        except UnicodeDecodeError:
            problems.add(spec, _first_bad_utf8_line(path), ROW, "not valid UTF-8")
            return ParsedFile(spec, rows, frozenset(positions), complete=False)
        except csv.Error as error:
            problems.add(spec, reader.line_num, ROW, f"{error}; nothing after it read")
            return ParsedFile(spec, rows, frozenset(positions), complete=False)
    return ParsedFile(spec, rows, frozenset(positions), complete=True)


def _first_bad_utf8_line(path: Path) -> int:
    """The decoder reads ahead, so the csv reader's position does not say where it failed."""
    with path.open("rb") as stream:
        for line, raw in enumerate(stream, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line
    return 1


def _numbered(reader: Any) -> Iterator[tuple[int, list[str]]]:
    """Rows with the physical line they start on (a quoted cell may span lines)."""
    start = reader.line_num + 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def _check_header(spec: FileSpec, header: list[str], problems: Problems) -> dict[str, int]:
    """Every column once, in any order; header problems are reported in header order."""
    positions: dict[str, int] = {}
    for position, column in enumerate(header):
        if column == "":
            problems.add(spec, 1, HEADER, f"column {position + 1} has no name", position)
        elif column not in spec.columns:
            problems.add(spec, 1, column, "unknown column", position)
        elif column in positions:
            problems.add(spec, 1, column, "the column appears twice", position)
        else:
            positions[column] = position
    for n, column in enumerate(spec.columns):
        if column not in positions:
            problems.add(spec, 1, column, "missing column", len(header) + n)
    return positions


def _parse_row(
    spec: FileSpec,
    line: int,
    cells: list[str],
    width: int,
    positions: dict[str, int],
    problems: Problems,
) -> Row:
    if len(cells) != width:
        problems.add(spec, line, ROW, f"{len(cells)} cells, but the header has {width}")
        return Row(line, (INVALID,) * len(spec.fields))
    values: list[Any] = []
    for fld in spec.fields:
        position = positions.get(fld.column)
        if position is None:
            values.append(INVALID)
            continue
        cell = cells[position].strip()
        if not cell:
            if fld.required:
                problems.add(spec, line, fld.column, "required, but empty")
                values.append(INVALID)
            else:
                values.append(fld.empty)
        elif isinstance(fld.parse, Text) and len(cell) <= fld.parse.max_length:
            values.append(cell)  # the common case, without a call
        else:
            try:
                values.append(fld.parse(cell))
            except CellError as error:
                problems.add(spec, line, fld.column, str(error))
                values.append(INVALID)
    return Row(line, tuple(values))
