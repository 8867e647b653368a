"""The words the pages show for the vocabulary, as the reference tool shows them."""

from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from shared.core.vocabulary import MONTHS, Mode

CHANNEL_LABELS: Final = {
    "householdPhone": "Household Phone",
    "homePhone": "Home Phone",
    "workPhone": "Work Phone",
    "cellPhone": "Cell Phone",
    "email": "Email",
    "secondaryEmail": "Secondary Email",
}
REASON_LABELS: Final = {
    "emergency": "Emergency",
    "attendance": "Attendance",
    "behavior": "Behavior Messenger",
    "staff": "Staff",
    "general": "General",
    "foodService": "Food Service",
    "priority": "Priority",
    "teacher": "Teacher",
}
OPTION_LABELS: Final = {"noChange": "No Change", "on": "On", "off": "Off"}
MODE_LABELS: Final = {
    Mode.STUDENT_CONTACT: "Student Messenger Contacts",
    Mode.STUDENT: "Students",
    Mode.CENSUS: "Census/Staff",
}
MODE_OPTIONS: Final = tuple(MODE_LABELS.items())
MODE_HELP: Final = {
    Mode.STUDENT_CONTACT: "The guardians and other messenger contacts of the students in "
    "scope: what a parent receives.",
    Mode.STUDENT: "The students in scope themselves, on their own phones and e-mail addresses.",
    Mode.CENSUS: "The people a census filter matches, such as staff; there is no scope.",
}
REASON_HELP: Final = {
    "emergency": "Urgent safety messages: closures, lockdowns, evacuations.",
    "attendance": "Absences, tardies and other attendance notices.",
    "behavior": "Behavior events and discipline notices.",
    "staff": "Messages to staff; set only for people with a district assignment.",
    "general": "Announcements, newsletters and events.",
    "foodService": "Meal account balances and food service notices.",
    "priority": "Important messages that are not emergencies.",
    "teacher": "Messages from teachers about a class or a student.",
}
FIELD_LABELS: Final = {
    "body": "Form",
    "mode": "Mode",
    "scope": "Scope",
    "scope.schoolYear": "School year",
    "scope.schoolId": "School",
    "scope.calendarId": "Calendar",
    "filterId": "Ad hoc filter",
    "asOf": "As of",
    "changes": "Changes",
    "keepGuardianChoices": "Keep guardians' own choices",
    "dryRun": "Preview",
}


def field_label(field: str | None) -> str:
    """A person's name for a request field, e.g. `changes.cellPhone.email` -> Cell Phone: Email."""
    if field is None:
        return ""
    if field in FIELD_LABELS:
        return FIELD_LABELS[field]
    parts = field.split(".")
    if parts[0] == "changes" and len(parts) >= 2:
        channel = CHANNEL_LABELS.get(parts[1], parts[1])
        return channel if len(parts) == 2 else f"{channel}: {REASON_LABELS.get(parts[2], parts[2])}"
    return field


SCOPE_LABELS: Final = {
    "school_year": "School year",
    "school_id": "School",
    "calendar_id": "Calendar",
}


def format_moment(moment: datetime | str | None, zone: ZoneInfo) -> str:
    """A moment (or its ISO text) shown in the district's time zone (naive means UTC)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


# Schedules: times on the district's wall clock, in English whatever the server's locale.
MONTH_NAMES: Final = MONTHS[1:]
WEEKDAY_ABBREVIATIONS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
RUN_STATUS_LABELS: Final = {"ran": "Ran", "skipped": "Skipped", "failed": "Failed"}


def format_local(moment: datetime, zone: ZoneInfo) -> str:
    """A moment on the district's wall clock, e.g. `Sat 1 Aug 2026, 02:00 CDT`."""
    local = moment.astimezone(zone)
    day = f"{WEEKDAY_ABBREVIATIONS[local.weekday()]} {local.day}"
    return f"{day} {MONTH_NAMES[local.month - 1][:3]} {local.year}, {local:%H:%M} {local.tzname()}"
