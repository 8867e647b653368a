"""What the tests of the schedule pages share: the app in America/Chicago with a user of each role
(the `app` fixture), the form on a page as a browser would send it, the schedules as stored, and
the next three 1 August 02:00 as the pages word them."""

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import Schedule, ScheduleRun, User
from tests.support.web import EnqueueRecorder, add_user, log_in, make_app

CHICAGO = ZoneInfo("America/Chicago")
START_OF_YEAR_ON = ("emergency", "attendance", "priority")
# The start-of-year reset's grid: every channel's emergency, attendance and priority on.
START_OF_YEAR_CHANGES = {
    channel: {reason: "on" if reason in START_OF_YEAR_ON else "noChange" for reason in REASONS}
    for channel in CHANNELS
}
START_OF_YEAR_TEMPLATE = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26"},
    "changes": START_OF_YEAR_CHANGES,
    "keepGuardianChoices": False,
}

NORTH = {
    "mode": "studentContact",
    "scope": {"calendarId": "C-N-26"},
    "changes": {"email": {"emergency": "on"}},
}
# NORTH's changes as a form saves them: the channel given, with all its reasons.
NORTH_STORED_CHANGES = {"email": dict.fromkeys(REASONS, "noChange") | {"emergency": "on"}}
RULE_FIELDS = {"rule.yearly.month": "8", "rule.yearly.day": "1", "rule.yearly.time": "02:00"}
# A schedule's form as a browser sends it, but for the rule chosen (ruleKind) and the filter.
FORM = {
    "name": "Weekday mornings",
    "mode": "student",
    "schoolYear": "2025-26",
    "schoolId": "S-N",
    "calendarId": "",
    "changes.email.emergency": "on",
    "changes.cellPhone.attendance": "off",
    "changes.homePhone.teacher": "noChange",
    "keepGuardianChoices": "true",
    **RULE_FIELDS,  # sent whatever rule is chosen, as a browser does
    "rule.cron": "",
    "rule.once.date": "",
    "rule.once.time": "",
    "enabled": "true",
    "catchUpHours": "2.5",
}
# FORM's template as stored (a channel given has all its reasons).
FORM_TEMPLATE = {
    "mode": "student",
    "scope": {"schoolYear": "2025-26", "schoolId": "S-N"},
    "changes": {
        "email": dict.fromkeys(REASONS, "noChange") | {"emergency": "on"},
        "cellPhone": dict.fromkeys(REASONS, "noChange") | {"attendance": "off"},
    },
    "keepGuardianChoices": True,
}
# The rule's controls, and the rule saved.
SAVED_RULES = [
    ({"ruleKind": "cron", "rule.cron": "0 6 * * 1-5"}, {"cron": "0 6 * * 1-5"}),
    (
        {"ruleKind": "yearly", "rule.yearly.month": "2", "rule.yearly.day": "29"},
        {"yearly": {"month": 2, "day": 29, "time": "02:00"}},
    ),
    (
        {"ruleKind": "once", "rule.once.date": "2031-03-09", "rule.once.time": "02:30"},
        {"once": "2031-03-09T02:30"},
    ),
]
CRON = {"ruleKind": "cron", "rule.cron": "0 2 * * *"}
# Controls refused: the control the error is shown at, and what it says.
REFUSED_FORMS = [
    ({"ruleKind": "cron", "rule.cron": "0 2 * *"}, "rule.cron",
     "Cron expression</strong></a>: Must be five fields separated by spaces (minute hour "
     "day-of-month month day-of-week), like &#39;0 2 * * 1-5&#39;; it has 4."),
    ({"ruleKind": "cron", "rule.cron": "0 2 * * 8"}, "rule.cron",
     "</strong></a>: Is not a valid cron expression: bad day-of-week field &#39;8&#39;."),
    ({"ruleKind": "yearly", "rule.yearly.month": "2", "rule.yearly.day": "30"},
     "rule.yearly.day", "Day</strong></a>: There is no 30 February: February has 28 days, 29 "
     "in leap years."),
    ({"ruleKind": "once", "rule.once.date": "2031-02-30", "rule.once.time": "02:00"},
     "rule.once.date", "Once (date and time)</strong></a>: Must be a local date and time as "
     "YYYY-MM-DDTHH:MM (no seconds, no offset) in the years 2000 to 2999; got "
     "&#39;2031-02-30T02:00&#39;."),
    (CRON | {"mode": "census"}, "filterId",
     "Ad hoc filter</strong></a>: Census/Staff needs a census filter: choose one under Ad hoc "
     "filter."),
    (CRON | {"catchUpHours": "0"}, "catchUpHours",
     "Catch-up window</strong></a>: Must be at least 0.01."),
    (CRON | {"catchUpHours": "six"}, "catchUpHours", "</strong></a>: Must be a number."),
    ({"name": "no rule chosen"}, "ruleKind-yearly",
     "When</strong></a>: Give exactly one of yearly, cron, once."),
    (CRON | {"name": " "}, "name", "Name</strong></a>: Must not be empty."),
]  # fmt: skip


@pytest.fixture
def app(
    session_factory: SessionFactory,
    web_district: dict[str, int],
    tmp_path: Path,
    enqueued: EnqueueRecorder,
) -> Flask:
    """add_district's district in America/Chicago; admin, vera (a viewer) and north (the school
    admin of S-N)."""
    add_user(session_factory, "vera", "viewer")
    add_user(session_factory, "north", "school_admin", schools=["S-N"])
    return make_app(session_factory, tmp_path, enqueued, timezone="America/Chicago")


def signed_in(app: Flask, username: str = "admin") -> tuple[FlaskClient, str]:
    client = app.test_client()
    return client, log_in(client, username)


def html(response: TestResponse) -> str:
    return response.get_data(as_text=True)


class FormFields(HTMLParser):
    """What a browser sends for the form with id `form_id` (no button pressed): each select's
    chosen option, each input's value, checkboxes and radios only when checked."""

    def __init__(self, page: str, form_id: str = "wizard") -> None:
        super().__init__()
        self.form_id = form_id
        self.fields: dict[str, str] = {}
        self.inside = False
        self._select: str | None = None
        self._first: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "select" and name is not None:
            self._select, self._first = name, None
        elif tag == "option" and self._select is not None:
            value = a.get("value") or ""
            if self._first is None:
                self._first = value
                self.fields.setdefault(self._select, value)
            if "selected" in a:
                self.fields[self._select] = value
        elif tag == "input" and name is not None:
            kind = a.get("type") or "text"
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.fields[name] = a.get("value") or "on"
            elif kind != "submit":
                self.fields[name] = a.get("value") or ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None


def form_fields(page: str) -> dict[str, str]:
    return FormFields(page).fields


def schedule_rows(factory: SessionFactory) -> list[dict[str, Any]]:
    """Every schedule as stored, deleted ones too, oldest first."""
    with factory() as session:
        rows = session.execute(
            select(Schedule, User.username)
            .outerjoin(User, User.id == Schedule.owner_id)
            .order_by(Schedule.id)
        )
        return [
            {
                "name": schedule.name,
                "template": schedule.template,
                "rule": schedule.rule,
                "enabled": schedule.enabled,
                "catchUpHours": schedule.catch_up_hours,
                "owner": owner,
                "deleted": schedule.deleted_at is not None,
            }
            for schedule, owner in rows
        ]


def run_rows(factory: SessionFactory) -> list[tuple[datetime, str, int | None, str | None]]:
    """(due time in Chicago, status, batch id, reason) of every run, oldest first."""
    with factory() as session:
        runs = session.scalars(select(ScheduleRun).order_by(ScheduleRun.id))
        return [(r.due_at.astimezone(CHICAGO), str(r.status), r.batch_id, r.reason) for r in runs]


def start_of_year_fields() -> dict[str, str]:
    """The ready-made start-of-year reset's form, as a browser sends it (but its CSRF token)."""
    changes = {
        f"changes.{channel}.{reason}": START_OF_YEAR_CHANGES[channel][reason]
        for channel in CHANNELS
        for reason in REASONS
    }
    return {
        "name": "Start-of-year reset",
        "mode": "studentContact",
        "schoolYear": "2025-26",
        "schoolId": "",
        "calendarId": "",
        "filterId": "",
        **changes,
        "ruleKind": "yearly",
        **RULE_FIELDS,
        "rule.cron": "",
        "rule.once.date": "",
        "rule.once.time": "",
        "enabled": "true",
        "catchUpHours": "6",
    }


def now() -> datetime:
    return datetime.now(UTC)


def as_shown(moment: datetime) -> str:
    """A Chicago moment as the pages show it, e.g. `Sat 1 Aug 2026, 02:00 CDT`."""
    local = moment.astimezone(CHICAGO)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M %Z}"


def next_first_of_august(count: int = 3) -> list[str]:
    """The next `count` 1 August at 02:00 in Chicago, from now, as the pages show them."""
    now = datetime.now(CHICAGO)
    years = [
        year
        for year in range(now.year, now.year + count + 1)
        if datetime(year, 8, 1, 2, tzinfo=CHICAGO) > now
    ]
    return [as_shown(datetime(year, 8, 1, 2, tzinfo=CHICAGO)) for year in years[:count]]
