"""The fixed words of the product: contact reasons, channels, options and setters.

A row of preferences packs the eight reasons into one bitmask: bit k is REASONS[k].
Setters are stored as integers: a positive number is the id of the batch that set the value,
the others are the named setters below.
"""

from enum import StrEnum
from typing import Final

REASONS: Final = (
    "emergency",
    "attendance",
    "behavior",
    "staff",
    "general",
    "foodService",
    "priority",
    "teacher",
)
CHANNELS: Final = (
    "householdPhone",
    "homePhone",
    "workPhone",
    "cellPhone",
    "email",
    "secondaryEmail",
)
HOUSEHOLD_PHONE: Final = 0
PERSONAL_CHANNELS: Final = tuple(range(1, len(CHANNELS)))
OPTIONS: Final = ("noChange", "on", "off")

REASON_BIT: Final = {reason: 1 << k for k, reason in enumerate(REASONS)}
STAFF_BIT: Final = REASON_BIT["staff"]

# The person column that holds each personal channel's address.
ADDRESS_COLUMN: Final = {
    "homePhone": "home_phone",
    "workPhone": "work_phone",
    "cellPhone": "cell_phone",
    "email": "email",
    "secondaryEmail": "secondary_email",
}

# By number (MONTHS[8] is August), in English whatever the locale: a schedule's rule in words,
# why a date does not exist, and the pages.
MONTHS: Final = (
    "",
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

SETTER_DEFAULT: Final = 0
SETTER_IMPORT: Final = -1
SETTER_GUARDIAN: Final = -2
SETTER_STAFF: Final = -3
SETTER_NAMES: Final = {
    SETTER_DEFAULT: "default",
    SETTER_IMPORT: "import",
    SETTER_GUARDIAN: "guardian",
    SETTER_STAFF: "staff",
}


class Mode(StrEnum):
    """Who a batch updates: the messenger contacts of the students in scope, the students, or
    the people a census filter matches."""

    STUDENT_CONTACT = "studentContact"
    STUDENT = "student"
    CENSUS = "census"


MODES: Final = tuple(Mode)


class BatchStatus(StrEnum):
    """Queued, then running, then one of the final three; a batch never goes back."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in FINAL_STATUSES


ACTIVE_STATUSES: Final = (BatchStatus.QUEUED, BatchStatus.RUNNING)
FINAL_STATUSES: Final = (BatchStatus.SUCCEEDED, BatchStatus.FAILED, BatchStatus.CANCELLED)


class BatchKind(StrEnum):
    BATCH = "batch"
    UNDO = "undo"
    IMPORT = "import"  # an import job's place in the order (shared.models.imports)


def setter_name(code: int) -> str:
    """The setter as the interfaces show it: a named setter, or `batch:<id>`."""
    return SETTER_NAMES[code] if code <= 0 else f"batch:{code}"


def mask_of(reasons: list[str] | tuple[str, ...]) -> int:
    mask = 0
    for reason in reasons:
        mask |= REASON_BIT[reason]
    return mask


def is_text_message_word(word: str) -> bool:
    """True for any spelling of a text-message (SMS) channel or reason, which no batch may set."""
    squashed = "".join(ch for ch in word.lower() if ch.isalnum())
    return "sms" in squashed or "text" in squashed


class Role(StrEnum):
    """A user's role: a district admin does everything; a school admin runs batches within
    their schools, with their own filters; a viewer reads."""

    DISTRICT_ADMIN = "district_admin"
    SCHOOL_ADMIN = "school_admin"
    VIEWER = "viewer"


ROLES: Final = tuple(Role)


class FilterKind(StrEnum):
    """A student filter narrows the students of a batch's scope; a census filter says who a
    Census/Staff batch updates."""

    STUDENT = "student"
    CENSUS = "census"


class RunStatus(StrEnum):
    """What became of a schedule's due time: a batch was created (whatever that batch's outcome),
    it was skipped (missed, with a later run or beyond the catch-up window), or no batch could be
    created (the reason says why)."""

    RAN = "ran"
    SKIPPED = "skipped"
    FAILED = "failed"


class ImportFormat(StrEnum):
    """The bundles an import reads: the product's own CSV files, or OneRoster 1.1 / 1.2 CSV."""

    NATIVE = "native"
    ONEROSTER = "oneroster"
