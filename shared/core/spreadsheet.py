"""Cells a spreadsheet would run: a CSV the product writes is opened by districts in Excel or
LibreOffice, which run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula. Such a cell is written with a leading `'`, which both show as text."""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
BLOCK: Final = 1 << 16


def neutralized(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """`header` then `rows` as CSV text in blocks of about 64 KiB, for a streamed response; each
    cell neutralized."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralized(cell) for cell in row])
        if buffer.tell() > BLOCK:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
