"""The schedule form, turned into the JSON body that POST /api/v1/schedules takes, and back.

Its batch template has the wizard's controls, named after the batch request's fields (`mode`,
`schoolYear`, `changes.email.emergency`, ...: web/wizard_form.py reads them); the schedule's own
controls are `name`, `ruleKind` (yearly, cron or once) with `rule.yearly.month`,
`rule.yearly.day`, `rule.yearly.time`, `rule.cron`, `rule.once.date` and `rule.once.time`,
`enabled` and `catchUpHours`. As in the wizard, values are passed on as they are, bad ones
included: parsing the body is the one validator, and its errors name the field.
"""

import re
from collections.abc import Mapping
from typing import Any, Final

from shared.core.vocabulary import CHANNELS
from shared.schedules.views import ScheduleView
from web.labels import field_label
from web.wizard_form import (
    CHANGE_CONTROLS,
    SCOPE_CONTROLS,
    change_control,
    control_of_field,
    payload_from_form,
)

TEMPLATE_PREFIX: Final = "template."
RULE_KINDS: Final = ("yearly", "cron", "once")
START_OF_YEAR: Final = "start-of-year"
START_OF_YEAR_REASONS: Final = ("emergency", "attendance", "priority")
NUMBER: Final = re.compile("^[0-9]+([.][0-9]+)?$")
# What the wizard's form carries over: its grid, not its date, token or buttons.
GRID_CONTROLS: Final = (
    frozenset({"mode", *SCOPE_CONTROLS, "filterId", "keepGuardianChoices"}) | CHANGE_CONTROLS
)
# The schedule's own fields, and the control each error's field is shown at.
CONTROLS: Final = {
    "name": "name",
    "rule": "ruleKind-yearly",
    "rule.yearly": "rule.yearly.month",
    "rule.yearly.month": "rule.yearly.month",
    "rule.yearly.day": "rule.yearly.day",
    "rule.yearly.time": "rule.yearly.time",
    "rule.cron": "rule.cron",
    "rule.once": "rule.once.date",
    "enabled": "enabled",
    "catchUpHours": "catchUpHours",
}
LABELS: Final = {
    "name": "Name",
    "template": "Batch",
    "rule": "When",
    "rule.yearly": "Every year",
    "rule.yearly.month": "Month",
    "rule.yearly.day": "Day",
    "rule.yearly.time": "Time of day",
    "rule.cron": "Cron expression",
    "rule.once": "Once (date and time)",
    "enabled": "Enabled",
    "catchUpHours": "Catch-up window",
}
Form = Mapping[str, str]


def schedule_payload(form: Form) -> dict[str, Any]:
    """The form as a schedule's body; an empty catch-up window is left out (the default, or
    unchanged)."""
    template = payload_from_form(form)
    template.pop("asOf", None)  # a run is as of its own local date
    template.pop("dryRun", None)
    payload: dict[str, Any] = {
        "name": form.get("name", ""),
        "template": template,
        "rule": rule_from_form(form),
        "enabled": "enabled" in form,
    }
    hours = form.get("catchUpHours", "").strip()
    if hours:
        payload["catchUpHours"] = float(hours) if NUMBER.fullmatch(hours) else hours
    return payload


def rule_from_form(form: Form) -> dict[str, Any]:
    """The chosen rule, as `{"yearly": {...}}`, `{"cron": "..."}` or `{"once": "..."}`; none
    chosen is `{}`, which is refused as such."""
    kind = form.get("ruleKind", "")
    if kind == "yearly":
        return {
            "yearly": {
                "month": _whole(form.get("rule.yearly.month", "")),
                "day": _whole(form.get("rule.yearly.day", "")),
                "time": form.get("rule.yearly.time", "").strip(),
            }
        }
    if kind == "cron":
        return {"cron": form.get("rule.cron", "")}
    if kind == "once":
        day, clock = form.get("rule.once.date", ""), form.get("rule.once.time", "")
        return {"once": f"{day.strip()}T{clock.strip()}"}
    return {}


def new_form(school_year: str | None) -> dict[str, str]:
    """A new schedule's form: Student Messenger Contacts of the current school year, every year on
    1 August at 02:00, enabled, a catch-up window of 6 hours."""
    return {
        "mode": "studentContact",
        "schoolYear": school_year or "",
        "ruleKind": "yearly",
        "rule.yearly.month": "8",
        "rule.yearly.day": "1",
        "rule.yearly.time": "02:00",
        "enabled": "true",
        "catchUpHours": "6",
    }


def start_of_year_form(school_year: str | None) -> dict[str, str]:
    """The ready-made start-of-year reset: every channel's emergency, attendance and priority on."""
    form = new_form(school_year) | {"name": "Start-of-year reset"}
    for channel in CHANNELS:
        for reason in START_OF_YEAR_REASONS:
            form[change_control(channel, reason)] = "on"
    return form


def from_wizard(wizard_form: Form, school_year: str | None) -> dict[str, str]:
    """The wizard's grid as it was (mode, scope, filter, changes, keep guardians' own choices),
    with a new schedule's rule and settings; its date and buttons are left behind."""
    grid = {name: wizard_form[name] for name in wizard_form if name in GRID_CONTROLS}
    defaults = new_form(school_year)
    for name in ("mode", "schoolYear"):
        defaults.pop(name)
    return defaults | grid


def form_of(view: ScheduleView) -> dict[str, str]:
    """A schedule's form, filled from its view (for editing)."""
    template = view.template
    form: dict[str, str] = {"name": view.name, "mode": str(template.mode)}
    if template.scope is not None:
        for name, value in template.scope.model_dump(by_alias=True, exclude_none=True).items():
            form[name] = str(value)
    if template.filter_id is not None:
        form["filterId"] = str(template.filter_id)
    grid = template.changes.grid() if template.changes is not None else {}
    for channel, options in grid.items():
        for reason, option in options.items():
            form[change_control(channel, reason)] = option
    if template.keeps_guardian_choices:
        form["keepGuardianChoices"] = "true"
    form |= _rule_form(view.rule.model_dump(mode="json", by_alias=True, exclude_none=True))
    if view.enabled:
        form["enabled"] = "true"
    form["catchUpHours"] = f"{view.catch_up_hours:g}"
    return form


def control_of(field: str | None) -> str | None:
    """The id of the control an error's field is about (a template's field: the wizard's)."""
    if field is None:
        return None
    if field.startswith(TEMPLATE_PREFIX):
        return control_of_field(field.removeprefix(TEMPLATE_PREFIX))
    return CONTROLS.get(field)


def label_of(field: str | None) -> str:
    """A person's name for an error's field, e.g. `template.changes.email.emergency` -> Email:
    Emergency, `rule.yearly.day` -> Day."""
    if field is None:
        return ""
    if field.startswith(TEMPLATE_PREFIX):
        return field_label(field.removeprefix(TEMPLATE_PREFIX))
    return LABELS.get(field, field)


def _rule_form(rule: dict[str, Any]) -> dict[str, str]:
    """The controls of a rule in the API's shape (times as HH:MM, or longer: cut to it)."""
    if "yearly" in rule:
        yearly = rule["yearly"]
        return {
            "ruleKind": "yearly",
            "rule.yearly.month": str(yearly["month"]),
            "rule.yearly.day": str(yearly["day"]),
            "rule.yearly.time": str(yearly["time"])[:5],
        }
    if "cron" in rule:
        return {"ruleKind": "cron", "rule.cron": str(rule["cron"])}
    day, _, clock = str(rule["once"]).partition("T")
    return {"ruleKind": "once", "rule.once.date": day, "rule.once.time": clock[:5]}


def _whole(text: str) -> int | str:
    """Digits as a number; anything else as it is, for parsing to refuse."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else text
