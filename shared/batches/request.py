"""The batch request of SPEC section 4, parsed from the JSON body the API and the wizard send.

Parsing checks the shape only; `batch_service.submit_batch` checks what needs the database
(the calendar, school and filter exist). Every error names the field it is about.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any

from shared.core.errors import InvalidRequest
from shared.core.request_shape import object_with_fields
from shared.core.vocabulary import CHANNELS, MODES, OPTIONS, REASONS, is_text_message_word

TEXT_REFUSAL = "text-message (SMS) preferences can never be set by a batch"
REQUEST_FIELDS = frozenset(
    {"mode", "scope", "filterId", "asOf", "changes", "keepGuardianChoices", "dryRun"}
)
SCOPE_FIELDS = ("schoolYear", "schoolId", "calendarId")

Changes = dict[str, dict[str, str]]


@dataclass(frozen=True)
class Scope:
    school_year: str | None = None
    school_id: str | None = None
    calendar_id: str | None = None


@dataclass(frozen=True)
class BatchRequest:
    mode: str
    scope: Scope | None
    filter_id: int | None
    as_of: date
    changes: Changes  # every channel and reason, in vocabulary order
    keep_guardian_choices: bool = False
    dry_run: bool = False


def parse_batch_request(payload: Any, *, today: date) -> BatchRequest:
    payload = object_with_fields(payload, REQUEST_FIELDS)
    mode = payload.get("mode")
    if mode not in MODES:
        raise InvalidRequest(f"must be one of {', '.join(MODES)}; got {mode!r}", field="mode")
    filter_id = _filter_id(payload.get("filterId"))
    if mode == "census" and filter_id is None:
        raise InvalidRequest("Census/Staff mode needs a census filter", field="filterId")
    return BatchRequest(
        mode=mode,
        scope=None if mode == "census" else _scope(payload.get("scope")),
        filter_id=filter_id,
        as_of=_as_of(payload.get("asOf"), today),
        changes=parse_changes(payload.get("changes")),
        keep_guardian_choices=_flag(payload, "keepGuardianChoices"),
        dry_run=_flag(payload, "dryRun"),
    )


def parse_changes(raw: Any, field: str = "changes") -> Changes:
    """The option of every (channel, reason); anything missing is noChange."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InvalidRequest("must be an object of channel: {reason: option}", field=field)
    changes = {channel: dict.fromkeys(REASONS, "noChange") for channel in CHANNELS}
    for channel, options in raw.items():
        where = f"{field}.{channel}"
        if is_text_message_word(str(channel)):
            raise InvalidRequest(TEXT_REFUSAL, field=where)
        if channel not in CHANNELS:
            raise InvalidRequest(f"unknown channel; one of {', '.join(CHANNELS)}", field=where)
        if not isinstance(options, dict):
            raise InvalidRequest("must be an object of reason: option", field=where)
        for reason, option in options.items():
            where = f"{field}.{channel}.{reason}"
            if is_text_message_word(str(reason)):
                raise InvalidRequest(TEXT_REFUSAL, field=where)
            if reason not in REASONS:
                raise InvalidRequest(f"unknown reason; one of {', '.join(REASONS)}", field=where)
            if option not in OPTIONS:
                raise InvalidRequest(
                    f"unknown option {option!r}; one of {', '.join(OPTIONS)}", field=where
                )
            changes[channel][reason] = option
    return changes


def _scope(raw: Any) -> Scope:
    if raw is None or raw == {}:
        raise InvalidRequest(
            "give a calendarId, a schoolId with a schoolYear, or a schoolYear", field="scope"
        )
    if not isinstance(raw, dict):
        raise InvalidRequest("must be an object", field="scope")
    values: dict[str, str | None] = {}
    for key, value in raw.items():
        if key not in SCOPE_FIELDS:
            raise InvalidRequest(f"unknown field; one of {', '.join(SCOPE_FIELDS)}", f"scope.{key}")
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise InvalidRequest("must be a non-empty string", field=f"scope.{key}")
        values[key] = value.strip() if isinstance(value, str) else None
    scope = Scope(values.get("schoolYear"), values.get("schoolId"), values.get("calendarId"))
    if scope.calendar_id is None and scope.school_year is None:
        field = "scope.schoolYear" if scope.school_id else "scope"
        raise InvalidRequest(
            "give a calendarId, a schoolId with a schoolYear, or a schoolYear", field=field
        )
    return scope


def _filter_id(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool) or not isinstance(raw, int | str):
        raise InvalidRequest("must be the id of a saved filter", field="filterId")
    try:
        return int(raw)
    except ValueError:
        raise InvalidRequest(f"{raw!r} is not a filter id", field="filterId") from None


def _as_of(raw: Any, today: date) -> date:
    if raw is None or raw == "":
        return today
    if isinstance(raw, str) and len(raw) == 10:
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise InvalidRequest(f"must be a date as YYYY-MM-DD; got {raw!r}", field="asOf")


def _flag(payload: dict[str, Any], name: str) -> bool:
    value = payload.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest("must be true or false", field=name)
    return value
