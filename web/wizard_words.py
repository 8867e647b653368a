"""The wizard's refusals in a district administrator's words. The service's messages name the
request's fields (they serve the API too: "give a calendarId, ..."); the page says the same
thing with the names of its own controls. A message without a rewording here is shown as it
is, capitalized."""

import re
from collections.abc import Callable
from typing import Final

from shared.batches.request import NO_SCOPE
from web.labels import MODE_LABELS

NOTHING_TO_CHANGE: Final = "nothing to change: set at least one reason of a channel to on or off"
PLAIN: Final = {
    NO_SCOPE: "Choose who is in scope: a calendar; or a school and a school year; or a school "
    "year alone, for every school in the district.",
    "Census/Staff mode needs a census filter": "Census/Staff needs a census filter: choose one "
    "under Ad hoc filter.",
    "Census/Staff mode takes no scope: its census filter says who": "Census/Staff takes no "
    "scope: its census filter says who is updated.",
    NOTHING_TO_CHANGE: "Nothing would change: set at least one reason of a channel to On or Off.",
    "give the date the batch is judged on": "Give the As of date: the day on which enrollments, "
    "relationships and memberships are judged.",
    "a batch over the whole district needs a district admin; name your school": "Choose your "
    "school: only a district admin may update the whole district.",
    "a school admin may not run Census/Staff batches": "Census/Staff is for district admins: "
    "choose Students or Student Messenger Contacts.",
}


def _mode(name: str) -> str:
    return next((label for value, label in MODE_LABELS.items() if value == name), name)


REWORDED: Final[list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]]] = [
    (
        re.compile(r"filter \d+ is a (\w+) filter; (\w+) mode needs a (\w+) one"),
        lambda m: f"The filter chosen is a {m[1]} filter; {_mode(m[2])} needs a {m[3]} filter.",
    ),
    (
        re.compile(r"no calendar of school year '(.+?)'( at school '.+')?"),
        lambda m: (
            f"There is no calendar of school year {m[1]}" + (" at that school." if m[2] else ".")
        ),
    ),
    (
        re.compile(r"calendar '.+' is not a calendar of school '.+'"),
        lambda m: (
            "That calendar belongs to another school: choose one of the school's own "
            "calendars, or All schools."
        ),
    ),
    (
        re.compile(r"calendar '.+' is of school year (.+)"),
        lambda m: f"That calendar is of school year {m[1]}: choose that year, or another calendar.",
    ),
    (
        re.compile(
            r"(calendar|school) '(.+)' is not (a calendar )?at one of your schools|"
            r"school '(.+)' is not one of your schools"
        ),  # fmt: skip
        lambda m: "That is not one of your schools: choose one of yours.",
    ),
]


def plain(message: str) -> str:
    """`message` in the wizard's words."""
    if message in PLAIN:
        return PLAIN[message]
    for pattern, reworded in REWORDED:
        found = pattern.fullmatch(message)
        if found:
            return reworded(found)
    text = message[:1].upper() + message[1:]
    return text if text.endswith(".") else f"{text}."
