"""How the cells of a OneRoster file are read: statuses, enumerations, lists and dates.

Enumerations are compared without regard to case and given back as the OneRoster standard spells
them; a value starting with `ext:` is an extension the product does not know, and reads as
EXTENSION. A date column takes a date, or a date-time whose date part is kept.
"""

import re
from datetime import date
from typing import Final

ACTIVE: Final = 0
DELETED: Final = 1
EXTENSION: Final = "ext:"

STAFF_ROLES: Final = (
    "teacher",
    "administrator",
    "aide",
    "proctor",
    "counselor",
    "principal",
    "siteAdministrator",
    "districtAdministrator",
    "systemAdministrator",
)
CONTACT_ROLES: Final = ("parent", "guardian", "relative")
ROLES: Final = {role.lower(): role for role in ("student", *CONTACT_ROLES, *STAFF_ROLES)}
ORG_TYPES: Final = {
    t.lower(): t for t in ("school", "district", "local", "state", "national", "department")
}
SESSION_TYPES: Final = {t.lower(): t for t in ("schoolYear", "term", "semester", "gradingPeriod")}

_DATE_TIME = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)
_YEAR = re.compile(r"[0-9]{4}")


def status(cell: str) -> int | None:
    """ACTIVE for `active` or an empty cell, DELETED for `tobedeleted`, None for anything else."""
    word = cell.lower()
    if word in ("", "active"):
        return ACTIVE
    if word == "tobedeleted":
        return DELETED
    return None


def status_problem(cell: str) -> str:
    return f"{cell!r} is not active or tobedeleted"


def enum(cell: str, words: dict[str, str]) -> str | None:
    """The word as the OneRoster standard spells it, EXTENSION for an `ext:` value, or None."""
    if cell[:4].lower() == EXTENSION:
        return EXTENSION
    return words.get(cell.lower())


def items(cell: str) -> list[str]:
    """A list cell's items: comma-separated, each stripped, empty ones left out."""
    if "," not in cell:
        return [cell] if cell else []
    return [item for part in cell.split(",") if (item := part.strip())]


class Dates:
    """Date cells read once each: a bundle repeats the same few hundred dates."""

    def __init__(self) -> None:
        self._known: dict[str, str | None] = {"": ""}

    def read(self, cell: str) -> str | None:
        """The date as YYYY-MM-DD ("" for an empty cell), or None if the cell is not a date."""
        try:
            return self._known[cell]
        except KeyError:
            value = self._known[cell] = _date(cell)
            return value


def _date(cell: str) -> str | None:
    match = _DATE_TIME.fullmatch(cell)
    if match is None:
        return None
    try:
        return date.fromisoformat(match[1]).isoformat()
    except ValueError:
        return None


def date_problem(cell: str) -> str:
    return f"{cell!r} is not a date (YYYY-MM-DD)"


def school_year(cell: str) -> str | None:
    """The native label of the school year that ends in the year `cell` (2026 -> 2025-26)."""
    if _YEAR.fullmatch(cell) is None or cell == "0000":
        return None
    year = int(cell)
    return f"{year - 1:04d}-{year % 100:02d}"
