"""Reading one OneRoster CSV file by the names in its header, never by position.

UTF-8 with or without a byte order mark, CRLF or LF line endings, cells stripped, columns in any
order; `metadata.*` columns and any column the mapping does not read are left alone. A line is
the physical line where a record starts (the header is line 1), so a quoted cell spanning lines
moves the lines after it down, as an editor shows them.
"""

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shared.imports.native.reading import first_bad_utf8_line
from shared.imports.oneroster.report import FILE, HEADER, ROW, Report


@dataclass(frozen=True)
class Found:
    """A sourcedId another file may name: its index among the file's rows, and whether the
    file is there to be looked in (`present`) and was read to its end (`complete`)."""

    file: str
    ids: dict[str, int]
    present: bool
    complete: bool
    _told: set[str] = field(default_factory=set, compare=False)

    def find(self, source: "Source", line: int, column: str, value: str) -> int | None:
        """The index of `value`, or None, reporting why at the referring cell: a value missing
        from a file read to its end; a file not in the bundle, once per referring column.
        A file cut short by a problem of its own reports nothing more here."""
        index = self.ids.get(value)
        if index is not None:
            return index
        if not self.present:
            told = f"{source.name}:{column}"
            if told not in self._told:
                self._told.add(told)
                message = f"{value!r} cannot be looked up: {self.file} is not in the bundle"
                source.problem(line, column, message)
        elif self.complete:
            source.problem(line, column, f"{value!r} is not in {self.file}")
        return None


def absent(file: str) -> Found:
    return Found(file, {}, present=False, complete=False)


class Source:
    """One file of the bundle; `rows()` yields each record's first line and its cells, in the
    order of `columns`. A header that lacks one of `columns` (or names it twice) is reported
    and no row is read; `complete` is then False, as it is when reading stops at a line that
    is not UTF-8 or not CSV."""

    def __init__(self, path: Path, columns: tuple[str, ...], report: Report) -> None:
        self.path = path
        self.name = path.name
        self.columns = columns
        self.report = report
        self.positions: dict[str, int] = {}
        self.complete = False
        self._quiet = False

    def problem(self, line: int, column: str, message: str, order: int | None = None) -> None:
        """`order`: where the problem goes among those of its line; by default, the column's
        position in the header."""
        if not self._quiet:
            where = self.positions.get(column, -1) if order is None else order
            self.report.add(self.name, line, column, message, where)

    def rows(self, quiet: bool = False) -> Iterator[tuple[int, list[str]]]:
        """`quiet`: read again, reporting nothing (the first reading did)."""
        self._quiet = quiet
        self.complete = False
        end = 1
        try:
            with self.path.open(encoding="utf-8-sig", newline="") as stream:
                reader = csv.reader(stream)
                header = next(reader, None)
                if header is None:
                    self.problem(1, HEADER, "the file is empty; a header row is required")
                    return
                if not self._read_header([cell.strip() for cell in header]):
                    return
                width = len(header)
                picked = [self.positions[column] for column in self.columns]
                end = reader.line_num
                for cells in reader:
                    line, end = end + 1, reader.line_num
                    if not any(cells):
                        continue  # a blank line
                    if len(cells) != width:
                        if any(cell.strip() for cell in cells):
                            self.problem(
                                line, ROW, f"{len(cells)} cells, but the header has {width}"
                            )
                        continue
                    yield line, [cells[position].strip() for position in picked]
            self.complete = True
        except UnicodeDecodeError:
            self.problem(
                first_bad_utf8_line(self.path), FILE, "not valid UTF-8; nothing after it read"
            )
        except csv.Error as error:
            self.problem(end + 1, ROW, f"{error}; nothing after it read")
        finally:
            self._quiet = False

    def _read_header(self, header: list[str]) -> bool:
        positions: dict[str, int] = {}
        fine = True
        for position, column in enumerate(header):
            if column not in self.columns:
                continue
            if column in positions:
                self.problem(1, column, "the column appears twice", position)
                fine = False
            else:
                positions[column] = position
        self.positions = positions
        missing = [column for column in self.columns if column not in positions]
        for n, column in enumerate(missing):
            self.problem(1, column, "missing column", len(header) + n)
        return fine and not missing
