"""Helpers for the web tests (no tests here): an app on a real database, users, tokens, a
district to choose from, and an `enqueue` that records what would be sent to the broker."""

import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from shared.access.tokens import create_token
from shared.access.users import create_user
from shared.core.db import SessionFactory
from shared.core.settings import Settings
from shared.models import AuditEntry, Batch, Calendar, Filter, School
from web import create_app
from web.access import PUBLIC, RULES

PASSWORD = "correct horse battery"


class EnqueueRecorder:
    """Stands in for the broker: remembers every (task name, args) in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __call__(self, task_name: str, *args: Any) -> None:
        self.calls.append((task_name, args))


def broker_ok() -> None:
    return None


def make_app(
    session_factory: SessionFactory,
    tmp_path: Path,
    enqueue: EnqueueRecorder | None = None,
    broker_check: Any = broker_ok,
    **settings: Any,
) -> Flask:
    """The app on `session_factory`; `settings` overrides fields of its Settings (for example
    `secure_cookies=True`)."""
    app = create_app(
        Settings(
            database_url="sqlite:///unused-the-factory-is-given",
            broker_url=None,
            secret_key="test",
            instance_path=tmp_path,
            **settings,
        ),
        enqueue=enqueue if enqueue is not None else EnqueueRecorder(),
        session_factory=session_factory,
        broker_check=broker_check,
    )
    app.config["TESTING"] = True  # CSRF stays on: only WTF_CSRF_ENABLED would turn it off
    return app


def app_with_a_failing_route(
    session_factory: SessionFactory, tmp_path: Path, path: str, monkeypatch: Any
) -> Flask:
    """The app with one more public route, at `path`, that raises RuntimeError("secret
    detail"); it answers as in production instead of raising into the test."""
    app = make_app(session_factory, tmp_path)
    monkeypatch.setitem(RULES, "boom", {"GET": PUBLIC})
    app.config["TESTING"] = False

    def boom() -> None:
        raise RuntimeError("secret detail")

    app.add_url_rule(path, "boom", boom)
    return app


def audit_rows(factory: SessionFactory) -> list[tuple[str | None, str, str | None, Any]]:
    """The audit log, oldest first: who, what, about what, and the detail."""
    with factory() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.action, AuditEntry.subject, AuditEntry.detail)
            .order_by(AuditEntry.id)
        )  # fmt: skip
        return [tuple(row) for row in rows]


def add_user(
    session_factory: SessionFactory,
    username: str = "admin",
    role: str = "district_admin",
    password: str | None = PASSWORD,
    schools: list[str] | None = None,
) -> None:
    """A user; a school admin needs `schools` (their ids must exist)."""
    with session_factory.begin() as session:
        create_user(session, username, role, password, schools or [])


def add_token(session_factory: SessionFactory, username: str) -> str:
    with session_factory.begin() as session:
        return create_token(session, username)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class Caller:
    """The API as `username` calls it, with a token of theirs: `call("GET", "/filters")`."""

    def __init__(self, app: Flask, factory: SessionFactory, username: str) -> None:
        self.client = app.test_client()
        self.headers = bearer(add_token(factory, username))

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.client.open(f"/api/v1{path}", method=method, json=body, headers=self.headers)


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match is not None, "no CSRF token on the page"
    return match.group(1)


def log_in(client: FlaskClient, username: str = "admin", password: str = PASSWORD) -> str:
    """Signs in through the login form; returns a CSRF token for later posts (the session's
    new one: signing in changes it), from the sign-out form every page has."""
    token = csrf_token(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login", data={"username": username, "password": password, "csrf_token": token}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    return csrf_token(client.get("/batches").get_data(as_text=True))


# A batch over add_district's school year 2025-26: emergency e-mails on.
YEAR_BATCH: Final = {
    "mode": "student",
    "scope": {"schoolYear": "2025-26"},
    "changes": {"email": {"emergency": "on"}},
}


def add_district(session_factory: SessionFactory) -> dict[str, int]:
    """Two schools, three calendars over two years, and one filter of each kind."""
    with session_factory.begin() as session:
        north = School(ext_id="S-N", name="North Elementary")
        south = School(ext_id="S-S", name="South High")
        session.add_all([north, south])
        session.flush()
        session.add_all(
            [
                Calendar(
                    ext_id="C-N-26",
                    school_id=north.id,
                    name="North 25-26",
                    school_year="2025-26",
                    start_date=date(2025, 8, 20),
                    end_date=date(2026, 6, 5),
                ),
                Calendar(
                    ext_id="C-S-26",
                    school_id=south.id,
                    name="South 25-26",
                    school_year="2025-26",
                    start_date=date(2025, 8, 20),
                    end_date=date(2026, 6, 5),
                ),
                Calendar(
                    ext_id="C-N-25",
                    school_id=north.id,
                    name="North 24-25",
                    school_year="2024-25",
                    start_date=date(2024, 8, 20),
                    end_date=date(2025, 6, 5),
                ),
            ]
        )
        student = Filter(name="grades 9-10", kind="student", criteria={"grades": ["09", "10"]})
        census = Filter(name="staff", kind="census", criteria={"staff": True})
        session.add_all([student, census])
        session.flush()
        return {"student_filter": student.id, "census_filter": census.id}


def batch_count(session_factory: SessionFactory) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(Batch)) or 0


def error_of(response: TestResponse) -> dict[str, Any]:
    body = response.get_json()
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    return error


class Page(HTMLParser):
    """The parts of a rendered page the tests look at: selects with their options, labels,
    buttons, inputs, and tables (by id) as rows of cell texts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.selects: dict[str, dict[str, Any]] = {}
        self.label_for: dict[str, str] = {}
        self.buttons: list[tuple[str | None, str | None, str]] = []
        self.inputs: dict[str, dict[str, str | None]] = {}
        self.radios: dict[str, list[tuple[str | None, bool]]] = {}
        self.tables: dict[str, list[list[str]]] = {}
        self.ids: set[str] = set()
        self._select: dict[str, Any] | None = None
        self._option: dict[str, Any] | None = None
        self._label: str | None = None
        self._button: dict[str, str | None] | None = None
        self._table: list[list[str]] | None = None
        self._cell: list[str] | None = None
        self._text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag == "select":
            self._select = {"id": a.get("id"), "options": [], "attrs": a}
            self.selects[str(a.get("name"))] = self._select
        elif tag == "option" and self._select is not None:
            self._option = {"value": a.get("value"), "selected": "selected" in a, "text": ""}
            self._select["options"].append(self._option)
        elif tag == "label" and a.get("for"):
            self._label = str(a["for"])
            self._text = []
        elif tag == "button":
            self._button = {"name": a.get("name"), "value": a.get("value")}
            self._text = []
        elif tag == "input" and a.get("name") and a.get("type") == "radio":
            self.radios.setdefault(str(a["name"]), []).append((a.get("value"), "checked" in a))
        elif tag == "input" and a.get("name"):
            self.inputs[str(a["name"])] = a
        elif tag == "table" and a.get("id"):
            self._table = self.tables.setdefault(str(a["id"]), [])
        elif tag == "tr" and self._table is not None:
            self._table.append([])
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None
        elif tag == "label" and self._label is not None:
            self.label_for[self._label] = " ".join("".join(self._text).split())
            self._label = None
        elif tag == "button" and self._button is not None:
            text = " ".join("".join(self._text).split())
            self.buttons.append((self._button["name"], self._button["value"], text))
            self._button = None
        elif tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self._table[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data.strip()
        if self._label is not None or self._button is not None:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def options(self, name: str) -> list[tuple[str | None, str]]:
        return [(o["value"], o["text"]) for o in self.selects[name]["options"]]

    def selected(self, name: str) -> str | None:
        """The chosen option of a select, or the checked button of a radio group."""
        if name in self.radios:
            checked = [value for value, on in self.radios[name] if on]
            return checked[0] if checked else None
        chosen = [o["value"] for o in self.selects[name]["options"] if o["selected"]]
        return chosen[0] if chosen else None
