"""Reading one CSV file of a bundle row by row, noting every problem on the way.

Lines are read as text: a line without quotes is split on commas, and a plain line whose cells
are all fine goes through untouched (`plain_lines`); a line with quotes (a cell may then span
lines) is parsed by the csv module, and any line that is not plain is checked cell by cell.
"""

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Final

from shared.core.spreadsheet import restored
from shared.imports.findings import Finding, FindingKind, Findings, Subject
from shared.imports.native.addresses import hidden_character
from shared.imports.native.cells import CellError
from shared.imports.native.formats import SPECS, Field, FileSpec
from shared.imports.native.plain_lines import RowTest

ROW: Final = "(row)"
HEADER: Final = "(header)"
FILE: Final = "(file)"

_FILE_ORDER = {spec.name: n for n, spec in enumerate(SPECS)}
_FIELD_LIMIT = csv.field_size_limit()  # a longer line is parsed by csv, which refuses a longer cell

# A row: its line, a mask of the cells that could not be read (bit k: spec.fields[k], or a column
# the header lacks), its cells in spec order ("" for none, and for each unreadable cell), and
# those cells as a line of CSV.
Row = tuple[int, int, list[str], str]


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


class _Unreadable(Exception):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


class CsvFile:
    """One file of the bundle. `rows()` reads it; then `present` holds the spec's columns that
    the header has, and `complete` is False if reading stopped early."""

    def __init__(
        self, path: Path, spec: FileSpec, problems: Problems, findings: Findings | None = None
    ) -> None:
        self.path = path
        self.spec = spec
        self.problems = problems
        self.findings = findings if findings is not None else Findings()
        self.present: frozenset[str] = frozenset()
        self.complete = True
        self._all_bad = (1 << len(spec.fields)) - 1

    def rows(self) -> Iterator[Row]:
        with self.path.open(encoding="utf-8-sig", newline="") as stream:
            try:
                yield from self._rows(iter(stream))
            except UnicodeDecodeError:
                self._stop(first_bad_utf8_line(self.path), "not valid UTF-8")
            except _Unreadable as error:
                self._stop(error.line, f"{error}; nothing after it read")

    def _stop(self, line: int, message: str) -> None:
        self.problems.add(self.spec, line, ROW, message)
        self.complete = False

    def _rows(self, lines: Iterator[str]) -> Iterator[Row]:
        first = next(lines, None)
        if first is None:
            self.problems.add(self.spec, 1, HEADER, "the file is empty; a header row is required")
            return
        number, header = _record(first, lines, 1)
        header = [cell.strip() for cell in header]
        positions = _check_header(self.spec, header, self.problems)
        self.present = frozenset(positions)
        width = len(header)
        columns = list(self.spec.columns)
        fast = len(positions) == width == len(columns)
        in_order = not fast or header == columns
        reorder = None if in_order else itemgetter(*(positions[c] for c in columns))
        test = RowTest([self.spec.field(column) for column in header]) if fast else None
        for raw in lines:
            number += 1
            if '"' in raw or len(raw) > _FIELD_LIMIT:  # a quoted cell may span lines
                line = number
                number, cells = _record(raw, lines, number)
                if cells:
                    yield self._read_slowly(line, cells, width, positions)
                continue
            body = raw.rstrip("\r\n")
            if not body:
                continue
            cells = body.split(",")
            quoted = body.startswith("'") or ",'" in body  # a cell the export neutralized
            if test is None or quoted or not test(body, cells):
                yield self._read_slowly(number, cells, width, positions)
            elif reorder is None:
                yield number, 0, cells, body
            else:
                ordered = list(reorder(cells))
                yield number, 0, ordered, ",".join(ordered)

    def _read_slowly(
        self, line: int, cells: Sequence[str], width: int, positions: dict[str, int]
    ) -> Row:
        """Every cell checked, each problem noted."""
        spec = self.spec
        values = [""] * len(spec.fields)
        if len(cells) != width:
            self.problems.add(spec, line, ROW, f"{len(cells)} cells, but the header has {width}")
            return line, self._all_bad, values, _csv_line(values)
        bad = 0
        for k, fld in enumerate(spec.fields):
            position = positions.get(fld.column)
            if position is None:  # a missing column, reported with the header
                bad |= 1 << k
                continue
            cell = restored(cells[position].strip())
            if fld.cleaned and hidden_character(cell) is not None:
                cell = self._cleaned(line, fld, cell)
            problem = cell_problem(fld, cell)
            if problem is None:
                values[k] = cell
            elif fld.quarantine:
                self._quarantine(line, fld, cell, problem, cells, positions)
                bad |= 1 << k
            else:
                self.problems.add(spec, line, fld.column, problem)
                bad |= 1 << k
        return line, bad, values, _csv_line(values)

    def _cleaned(self, line: int, fld: Field, cell: str) -> str:
        """A name without its control and bidi-override characters, reported: a line break or
        tab becomes a space, any other such character goes."""
        kept = "".join(
            c if hidden_character(c) is None else " " if c.isspace() else "" for c in cell
        ).strip()
        why = "control or bidi-override characters removed; the rest kept"
        self.findings.add(Finding(FindingKind.CLEANED, self.spec.name, line, fld.column, cell, why))
        return kept

    def _quarantine(
        self,
        line: int,
        fld: Field,
        cell: str,
        why: str,
        cells: Sequence[str],
        positions: dict[str, int],
    ) -> None:
        """An address cell that failed its check: reported, and staged as unreadable (its bit
        in `bad`), which the writing reads as "keep the stored address"."""
        key = self.spec.key[0]
        owner = cells[positions[key]].strip() if key in positions else ""
        subject_type = "household" if self.spec.defines == "household" else "person"
        channel = "householdPhone" if subject_type == "household" else fld.column
        self.findings.add(
            Finding(
                FindingKind.QUARANTINED,
                self.spec.name,
                line,
                fld.column,
                cell,
                why,
                Subject(subject_type, owner, channel) if owner else None,
            )
        )


def cell_problem(fld: Field, cell: str) -> str | None:
    """What is wrong with a stripped cell of the column, if anything."""
    if not cell:
        return "required, but empty" if fld.required else None
    if "\x00" in cell and not fld.quarantine:  # an address's own check says why
        return "holds a NUL character (U+0000), which cannot be stored"
    try:
        fld.kind.check(cell)
    except CellError as error:
        return str(error)
    return None


def _record(first: str, lines: Iterator[str], number: int) -> tuple[int, list[str]]:
    """The cells of the record that starts with line `number`, `first`, and the number of the
    line it ends on; a blank line has no cells. Lines with quotes are parsed by csv."""
    if '"' not in first and len(first) <= _FIELD_LIMIT:
        body = first.rstrip("\r\n")
        return number, body.split(",") if body else []
    reader = csv.reader(chain([first], lines))  # takes the lines a quoted cell spans
    try:
        cells = next(reader)
    except csv.Error as error:
        raise _Unreadable(number + reader.line_num - 1, str(error)) from error
    return number + reader.line_num - 1, cells


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)  # quotes cells with \r or \n
    return buffer.getvalue().removesuffix("\r\n")


def first_bad_utf8_line(path: Path) -> int:
    """The decoder reads ahead, so where the lines stopped does not say where it failed."""
    with path.open("rb") as stream:
        for line, raw in enumerate(stream, 1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return line
    return 1


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
