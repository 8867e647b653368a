"""The batch wizard's form, turned into the same JSON payload that POST /api/v1/batches takes.

The form names its controls after the payload's fields (`mode`, `schoolYear`, `filterId`,
`changes.cellPhone.emergency`, ...), so an error's field leads straight back to its control.
Values are passed on as they are, unknown ones included: `submit_batch` is the one validator.
"""

import hashlib
import json
import secrets
from collections.abc import Mapping
from typing import Any, Final

from shared.core.vocabulary import CHANNELS, REASONS

SCOPE_CONTROLS: Final = ("schoolYear", "schoolId", "calendarId")
CHANGES_PREFIX: Final = "changes."
PREVIEW_ACTION: Final = "preview"
SUBMISSION_CONTROL: Final = "submission"
MAX_SUBMISSION_TOKEN: Final = 64
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
    payload["changes"] = changes_from_form(form)
    payload["keepGuardianChoices"] = "keepGuardianChoices" in form
    payload["dryRun"] = form.get("action") == PREVIEW_ACTION
    return payload


def whole_district(payload: dict[str, Any]) -> bool:
    """Whether the batch reaches beyond one school: a school year alone, or Census/Staff."""
    scope = payload.get("scope") or {}
    if payload.get("mode") == "census":
        return True
    return (
        bool(scope.get("schoolYear")) and not scope.get("schoolId") and not scope.get("calendarId")
    )


def new_submission_token() -> str:
    """A token for one showing of the wizard, sent back with the form."""
    return secrets.token_urlsafe(16)


def idempotency_key(form: Mapping[str, str], payload: dict[str, Any]) -> str | None:
    """The form's token with a digest of what it asks: the same form sent twice (a double
    click, a resent POST) gives the same key and so one batch, while the same page sent again
    with other choices (say Apply after Preview) is a batch of its own."""
    token = form.get(SUBMISSION_CONTROL, "").strip()
    if not token or len(token) > MAX_SUBMISSION_TOKEN:
        return None
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
    return f"wizard:{token}:{digest}"


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


def changes_from_form(form: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """The `changes.<channel>.<reason>` controls as a `changes` object, noChange left out."""
    changes: dict[str, dict[str, str]] = {}
    for name, option in form.items():
        if not name.startswith(CHANGES_PREFIX) or option == "noChange":
            continue
        channel, _, reason = name.removeprefix(CHANGES_PREFIX).partition(".")
        changes.setdefault(channel, {})[reason] = option
    return changes
