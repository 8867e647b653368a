"""Cells a spreadsheet would run: a CSV the product writes is opened by districts in Excel or
LibreOffice, which run a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return
as a formula. Such a cell is written with a leading `'`, which both show as text."""

from typing import Final

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def neutralized(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell
