"""A list of person ids pasted or uploaded into the filter designer: one id a line (commas and
tabs also separate them, so a spreadsheet column or a CSV row pastes as it is). Every line
that is not an id, or names no person, is reported with its number; nothing is kept from a
list with a bad line."""

import re
from dataclasses import dataclass
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.core.contract import FORBIDDEN_CHARACTERS
from shared.core.errors import InvalidRequest
from shared.filters.criteria import MAX_PERSON_IDS
from shared.models import Person

MAX_ID_LENGTH: Final = 64
SEPARATORS: Final = re.compile(r"[,;\t]")
LOOKUP_BATCH: Final = 1000
SHOWN_PROBLEMS: Final = 50


class BadPersonList(InvalidRequest):
    """The bad lines of a pasted or uploaded list, each with its number."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:SHOWN_PROBLEMS]
        more = len(problems) - len(shown)
        super().__init__(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in the list of person "
            "ids; nothing was saved" + (f" (the first {len(shown)} are listed)" if more else ""),
            field="personIds",
        )
        self.problems = shown


@dataclass(frozen=True)
class _Entry:
    line: int
    person_id: str


def read_person_ids(session: Session, text: str) -> list[str]:
    """The ids of `text` in their order, without repeats; BadPersonList if any line is bad."""
    entries: list[_Entry] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for cell in SEPARATORS.split(line):
            person_id = cell.strip().strip('"').strip()
            if not person_id:
                continue
            why = _not_an_id(person_id)
            if why:
                problems.append(f"line {number}: {person_id[:80]!r} {why}")
            else:
                entries.append(_Entry(number, person_id))
    if len(entries) > MAX_PERSON_IDS:
        problems.append(f"the list has {len(entries)} ids; a filter takes at most {MAX_PERSON_IDS}")
    known = _known(session, {entry.person_id for entry in entries})
    problems += [
        f"line {entry.line}: no person {entry.person_id!r}"
        for entry in entries
        if entry.person_id not in known
    ]
    if problems:
        raise BadPersonList(sorted(problems, key=_line_of))
    return list(dict.fromkeys(entry.person_id for entry in entries))


def _not_an_id(person_id: str) -> str | None:
    if len(person_id) > MAX_ID_LENGTH:
        return f"is longer than {MAX_ID_LENGTH} characters"
    if FORBIDDEN_CHARACTERS.search(person_id):
        return "holds a control character"
    if " " in person_id:
        return "holds a space: give one id a line"
    return None


def _known(session: Session, person_ids: set[str]) -> set[str]:
    ordered = sorted(person_ids)
    found: set[str] = set()
    for start in range(0, len(ordered), LOOKUP_BATCH):
        chunk = ordered[start : start + LOOKUP_BATCH]
        found.update(session.scalars(select(Person.ext_id).where(Person.ext_id.in_(chunk))))
    return found


def _line_of(problem: str) -> tuple[int, str]:
    found = re.match(r"line (\d+):", problem)
    return (int(found.group(1)) if found else 0, problem)
