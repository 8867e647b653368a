"""The words the pages show for the vocabulary, as the reference tool shows them."""

from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo

from shared.core.vocabulary import MODE_LABELS

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
MODE_OPTIONS: Final = tuple(MODE_LABELS.items())
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


SCOPE_LABELS: Final = {"schoolYear": "School year", "schoolId": "School", "calendarId": "Calendar"}


def format_moment(iso: str | None, zone: ZoneInfo) -> str:
    """An ISO timestamp from the API, shown in the district's time zone (naive means UTC)."""
    if not iso:
        return ""
    moment = datetime.fromisoformat(iso)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")
