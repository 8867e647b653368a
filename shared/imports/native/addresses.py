"""The checks of an address cell: an e-mail address or a phone number.

A real export holds a few bad addresses among a million good ones, and the district cannot fix
its student information system today. So an address that fails its check is not a structural
problem: the import quarantines it (imports it as no address and reports it, see `reading`),
and the rest of the import goes on.

An address fails when it is not one (an e-mail without a single `@` between a local part and a
dotted domain, or with spaces; a phone with letters or other signs: a phone is digits, spaces
and `()-.`, with an optional leading `+`), when it holds a control or bidi-override character
(which would hide what it says), when a spreadsheet would run it as a formula (an e-mail that
starts with `=`, `+`, `-` or `@`; a phone's leading `+` is allowed), or when it is too long for
its column.
"""

import re
import unicodedata
from typing import Final

from shared.core.spreadsheet import FORMULA_STARTS
from shared.imports.native.cells import CellError, Kind

EMAIL_LENGTH: Final = 254
PHONE_LENGTH: Final = 32

_EMAIL = re.compile(r"[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)+")
_PHONE = re.compile(r"\+?[0-9 ().-]*[0-9][0-9 ().-]*")
_PLAIN_EMAIL = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.%+'-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PLAIN_PHONE = re.compile(r"\+?[0-9 ().-]{1,31}")


def hidden_character(cell: str) -> str | None:
    """The first control (Cc), format (Cf: bidi overrides, zero-width) or line-separating
    character of the cell, if any."""
    for character in cell:
        if unicodedata.category(character) in ("Cc", "Cf", "Zl", "Zp"):
            return character
    return None


def _common(cell: str, max_length: int) -> None:
    hidden = hidden_character(cell)
    if hidden is not None:
        raise CellError(f"holds the control or bidi-override character U+{ord(hidden):04X}")
    if len(cell) > max_length:
        raise CellError(f"longer than {max_length} characters")


def _email(cell: str) -> None:
    _common(cell, EMAIL_LENGTH)
    if cell.startswith(FORMULA_STARTS):
        raise CellError("a spreadsheet would run it as a formula")
    if _EMAIL.fullmatch(cell) is None:
        raise CellError("not an e-mail address (name@domain.example, without spaces)")


def _phone(cell: str) -> None:
    _common(cell, PHONE_LENGTH)
    if _PHONE.fullmatch(cell) is None:
        if any(character.isalpha() for character in cell):
            raise CellError("a phone number has no letters")
        raise CellError("not a phone number (digits, spaces and ()-. with an optional leading +)")


def _accepts_email(cell: str) -> bool:
    """Fast path: true only of cells `_email` passes (or the empty cell); plain ASCII."""
    return cell == "" or (len(cell) <= EMAIL_LENGTH and _PLAIN_EMAIL.fullmatch(cell) is not None)


def _accepts_phone(cell: str) -> bool:
    return cell == "" or (
        _PLAIN_PHONE.fullmatch(cell) is not None and any(c.isdigit() for c in cell)
    )


email = Kind(_email, max_length=EMAIL_LENGTH, accepts=_accepts_email)
phone = Kind(_phone, max_length=PHONE_LENGTH, accepts=_accepts_phone)


def address_problem(kind: Kind, cell: str) -> str | None:
    """Why the stripped, non-empty address cell is quarantined, or None if it is fine."""
    try:
        kind.check(cell)
    except CellError as error:
        return str(error)
    return None
