"""CSV text one line at a time, for files streamed as they are read from the database."""

import csv
import io
from collections.abc import Callable, Iterable
from typing import Any


def csv_line_writer() -> Callable[[Iterable[Any]], str]:
    """A function that turns one row of cells into its CSV line (ending in CRLF)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[Any]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    return line
