"""Cells a spreadsheet would run: a CSV the product writes is opened by districts in Excel or
LibreOffice, which run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula. Such a cell is written with a leading `'`, which both show as text; so is a cell
that starts with `'` and then one of those, so that the native import, which takes exactly that
`'` off again (`restored`), reads back what was written. A phone number (`+`, then digits,
spaces and `()-.`) is written as it is."""

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")
BLOCK: Final = 1 << 16
PHONE: Final = re.compile(r"\+[0-9 ().-]*[0-9][0-9 ().-]*")  # a + and at least one digit


def neutralized(cell: str) -> str:
    if cell.startswith(FORMULA_STARTS) and not PHONE.fullmatch(cell):
        return "'" + cell
    if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + cell  # any number of quotes: each written cell reads back as one cell
    return cell


def restored(cell: str) -> str:
    """A cell as it was before `neutralized`: the `'` it put in front is taken off."""
    if cell.startswith("'") and neutralized(cell[1:]) == cell:
        return cell[1:]
    return cell


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
