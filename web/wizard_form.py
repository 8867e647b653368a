"""The batch wizard's form, turned into the same JSON payload that POST /api/v1/batches takes.

The form names its controls after the payload's fields (`mode`, `schoolYear`, `filterId`,
`changes.cellPhone.emergency`, ...), so an error's field leads straight back to its control.
Values are passed on as they are, unknown ones included: `submit_batch` is the one validator.
"""

from collections.abc import Mapping
from typing import Any, Final

from shared.vocabulary import CHANNELS, REASONS

SCOPE_CONTROLS: Final = ("schoolYear", "schoolId", "calendarId")
CHANGES_PREFIX: Final = "changes."
PREVIEW_ACTION: Final = "preview"
PLAIN_CONTROLS: Final = frozenset(
    {"mode", *SCOPE_CONTROLS, "filterId", "asOf", "keepGuardianChoices"}
)


def change_control(channel: str, reason: str) -> str:
    return f"{CHANGES_PREFIX}{channel}.{reason}"


CHANGE_CONTROLS: Final = frozenset(
    change_control(channel, reason) for channel in CHANNELS for reason in REASONS
)


def payload_from_form(form: Mapping[str, str]) -> dict[str, Any]:
    mode = form.get("mode", "")
    payload: dict[str, Any] = {"mode": mode}
    # Census mode has no scope; the page hides the scope selects then, but a browser without
    # JavaScript still sends them.
    if mode != "census":
        payload["scope"] = {
            name: form[name].strip() for name in SCOPE_CONTROLS if form.get(name, "").strip()
        }
    filter_id = form.get("filterId", "").strip()
    if filter_id:
        payload["filterId"] = (
            int(filter_id) if filter_id.isascii() and filter_id.isdigit() else filter_id
        )
    if form.get("asOf", "").strip():
        payload["asOf"] = form["asOf"].strip()
    payload["changes"] = _changes(form)
    payload["keepGuardianChoices"] = "keepGuardianChoices" in form
    payload["dryRun"] = form.get("action") == PREVIEW_ACTION
    return payload


def control_of_field(field: str | None) -> str | None:
    """The id of the form control (or the changes table) an error's field is about."""
    if field is None:
        return None
    if field == "scope":
        return "schoolYear"
    name = field.removeprefix("scope.")
    if name in PLAIN_CONTROLS or name in CHANGE_CONTROLS:
        return name
    if field.startswith(CHANGES_PREFIX) or field == "changes":
        return "changes"  # a channel or reason the matrix does not have, e.g. an SMS channel
    return None


def _changes(form: Mapping[str, str]) -> dict[str, dict[str, str]]:
    changes: dict[str, dict[str, str]] = {}
    for name, option in form.items():
        if not name.startswith(CHANGES_PREFIX) or option == "noChange":
            continue
        channel, _, reason = name.removeprefix(CHANGES_PREFIX).partition(".")
        changes.setdefault(channel, {})[reason] = option
    return changes
