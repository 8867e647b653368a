"""The district of the access tests (the `setup` fixture: schools N and S, a user of each role,
batches, filters and tokens), one request per route of the app, a call by method, and a batch
submitted by the school admin."""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.access.tokens import create_token
from shared.access.users import create_user
from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import AuditEntry, Batch, BatchChunk, Filter
from tests.support.district import District
from tests.support.web import PASSWORD, EnqueueRecorder, csrf_token, make_app

AS_OF = date(2025, 10, 15)
NO_CHANGE = {channel: dict.fromkeys(REASONS, "noChange") for channel in CHANNELS}
NOTHING_COUNTED = {channel: dict.fromkeys(REASONS) for channel in CHANNELS}


@dataclass
class Setup:
    app: Flask
    factory: SessionFactory
    tokens: dict[str, str]
    ids: dict[str, int]

    def api(self, username: str) -> FlaskClient:
        """A client whose requests carry the user's bearer token."""
        client = self.app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {self.tokens[username]}"
        return client

    def signed_in(self, username: str) -> tuple[FlaskClient, str]:
        client = self.app.test_client()
        token = csrf_token(client.get("/login").get_data(as_text=True))
        response = client.post(
            "/login", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert response.status_code == 302
        return client, csrf_token(client.get("/batches").get_data(as_text=True))

    def refusals(self) -> list[tuple[str | None, str | None, Any]]:
        with self.factory() as session:
            rows = session.execute(
                select(AuditEntry.username, AuditEntry.subject, AuditEntry.detail)
                .where(AuditEntry.action == "access.denied")
                .order_by(AuditEntry.id)
            )
            return [tuple(row) for row in rows]


@pytest.fixture
def setup(session_factory: SessionFactory, tmp_path: Path) -> Iterator[Setup]:
    """Schools N and S. `north` is the school admin of N, `ada` a district admin, `vera` a viewer.
    People: n1 (a student at N) with contact g1 and household h1; s1 (at S) with contact g2 and
    household h2. Finished batches at N (by calendar and by school) and at S, a running one at S,
    a census batch; a filter of north's and one of ada's."""
    with session_factory.begin() as session:
        d = District(session)
        north, south = d.school("N"), d.school("S")
        cal_n, cal_s = d.calendar("CAL-N", north), d.calendar("CAL-S", south)
        n1, s1 = d.person("n1", email="n1@x"), d.person("s1", email="s1@x")
        d.enroll(n1, cal_n)
        d.enroll(s1, cal_s)
        g1, g2 = d.person("g1", email="g1@x"), d.person("g2", email="g2@x")
        d.relate(n1, g1)
        d.relate(s1, g2)
        d.member(d.household("h1", phone="100"), g1)
        d.member(d.household("h2", phone="200"), g2)
        d.finish()
        create_user(session, "ada", "district_admin", PASSWORD, [])
        north_admin = create_user(session, "north", "school_admin", PASSWORD, ["N"])
        create_user(session, "vera", "viewer", PASSWORD, [])
        own = Filter(name="mine", kind="student", criteria={}, owner_id=north_admin.id)
        theirs = Filter(name="theirs", kind="student", criteria={}, owner_id=None)
        session.add_all([own, theirs])
        session.flush()
        ids = {
            "own_filter": own.id,
            "their_filter": theirs.id,
            "n_calendar": _batch(session, calendar="CAL-N"),
            "n_school": _batch(session, school="N", year="2025-26"),
            "s_school": _batch(session, school="S", year="2025-26"),
            "s_running": _batch(session, calendar="CAL-S", status="running"),
            "census": _batch(session, mode="census"),
            "n_preview": _batch(session, calendar="CAL-N", dry_run=True),
            "s_preview": _batch(session, calendar="CAL-S", dry_run=True),
        }
        tokens = {user: create_token(session, user) for user in ("ada", "north", "vera")}
    app = make_app(session_factory, tmp_path, EnqueueRecorder())
    yield Setup(app, session_factory, tokens, ids)


def _batch(
    session: Any,
    *,
    calendar: str | None = None,
    school: str | None = None,
    year: str | None = None,
    mode: str = "student",
    status: str = "succeeded",
    dry_run: bool = False,
) -> int:
    batch = Batch(
        kind="batch",
        status=status,
        mode=mode,
        school_year=year,
        school_ext_id=school,
        calendar_ext_id=calendar,
        as_of=AS_OF,
        changes=NO_CHANGE,
        dry_run=dry_run,
        errors=[],
        counts=None if status == "running" else NOTHING_COUNTED,
        kept=None if status == "running" else NOTHING_COUNTED,
        planned=True,
        chunks_total=1,
        targets=0,
        submitted_at=datetime(2025, 10, 15, 8, tzinfo=UTC),
        finished_at=None if status == "running" else datetime(2025, 10, 15, 9, tzinfo=UTC),
    )
    session.add(batch)
    session.flush()
    session.add(BatchChunk(batch_id=batch.id, chunk_no=0, done=status != "running"))
    return batch.id


def sample_requests(app: Flask, ids: dict[str, int]) -> dict[tuple[str, str], str]:
    """One request per (endpoint, method) of the app, its path parameters filled with things
    that exist: a finished batch at N (a running one to cancel, a preview to apply), the person
    n1 (g1 for a household of theirs), the user vera, token 1, schedule 1."""
    batches = {"cancel": ids["s_running"], "apply": ids["n_preview"]}
    adapter = app.url_map.bind("localhost")
    requests = {}
    for rule in app.url_map.iter_rules():
        action = rule.endpoint.rsplit(".", 1)[-1].removesuffix("_batch")
        values = {
            "batch_id": batches.get(action, ids["n_calendar"]),
            "person_id": "g1" if "household_id" in rule.arguments else "n1",
            "household_id": "h1",
            "username": "vera",
            "token_id": 1,
            "filename": "style.css",
            "filter_id": ids["own_filter"],
            "schedule_id": 1,  # refused or not by role before it is looked up
            "import_id": 1,
        }
        path = adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            requests[(rule.endpoint, method)] = path
    return requests


def routes(app: Flask) -> set[tuple[str, str]]:
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
        if method not in ("HEAD", "OPTIONS")
    }


def call(client: FlaskClient, method: str, path: str, **kwargs: Any) -> Any:
    return client.open(path, method=method, **kwargs)


def submit(setup: Setup, body: dict[str, Any]) -> Any:
    return setup.api("north").post("/api/v1/batches", json=body)
