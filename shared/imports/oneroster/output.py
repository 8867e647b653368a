"""Writing the native bundle: one CSV file per native format, its header first, then rows as
they are made, so that no file is held in memory.

Rows end in CRLF, like the product's other CSV files; that also makes the csv module quote a
cell holding a lone carriage return, which would otherwise end the line for a reader.
"""

import csv
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

from shared.core.spreadsheet import neutralized
from shared.imports.native.formats import FileSpec


class NativeFile:
    def __init__(self, path: Path, spec: FileSpec, stack: ExitStack) -> None:
        stream = stack.enter_context(path.open("w", encoding="utf-8", newline=""))
        self._writer = csv.writer(stream, lineterminator="\r\n")
        self._writer.writerow(spec.columns)

    def write(self, cells: Sequence[str]) -> None:
        """A row, each cell as the native import will read it back (shared.core.spreadsheet)."""
        self._writer.writerow([neutralized(cell) for cell in cells])


class Output:
    """The target folder. `discard()` removes every file written, for a translation that
    failed: its caller throws the folder away, and nothing half-made must look usable."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self._stack = ExitStack()
        self._written: list[Path] = []

    def open(self, spec: FileSpec) -> NativeFile:
        path = self.folder / spec.name
        self._written.append(path)
        return NativeFile(path, spec, self._stack)

    def close(self) -> None:
        self._stack.close()

    def discard(self) -> None:
        self.close()
        for path in self._written:
            path.unlink(missing_ok=True)


def lines_of(cells: Sequence[str]) -> int:
    """How many lines a written row takes, as a reader that splits lines at CR, LF and CRLF
    (Python's universal newlines, the native import's) counts them."""
    text = "\x1f".join(cells)
    if "\n" not in text and "\r" not in text:
        return 1
    return 1 + text.count("\n") + text.count("\r") - text.count("\r\n")
