"""The JSON API's batches: submitting one and the refusals, which write nothing; listing them,
one batch, and the errors answered as JSON."""

import re
from pathlib import Path
from typing import Any

import pytest

from shared.core.db import SessionFactory
from shared.core.grids import TEXT_REFUSAL
from shared.core.vocabulary import CHANNELS, REASONS
from tests.support.web import (
    EnqueueRecorder,
    add_token,
    app_with_a_failing_route,
    batch_count,
    error_of,
    make_app,
)
from tests.support.web_api import STUDENT_BATCH, Api
from tests.support.web_api import api as api  # the fixture, for pytest to find here

NO_CHANGE_ROW = dict.fromkeys(REASONS, "noChange")


# --- submitting -----------------------------------------------------------------------------


def test_submit_a_batch(api: Api, enqueued: EnqueueRecorder):
    response = api.post("/api/v1/batches", STUDENT_BATCH)
    assert response.status_code == 202
    assert response.get_json() == {"id": 1, "status": "queued", "url": "/api/v1/batches/1"}
    assert response.headers["Location"] == "/api/v1/batches/1"
    assert enqueued.calls == [("batches.plan", (1,))]

    view = api.get("/api/v1/batches/1").get_json()
    submitted_at = view.pop("submittedAt")
    assert isinstance(submitted_at, str) and submitted_at[:2] == "20"
    changes = {channel: dict(NO_CHANGE_ROW) for channel in CHANNELS}
    changes["email"].update(emergency="on", attendance="off")
    changes["homePhone"]["staff"] = "on"
    assert view == {
        "id": 1,
        "kind": "batch",
        "status": "queued",
        "mode": "student",
        "scope": {"schoolYear": None, "schoolId": None, "calendarId": "C-N-26"},
        "filterId": None,
        "asOf": "2025-10-15",
        "changes": changes,
        "keepGuardianChoices": False,
        "dryRun": False,
        "submittedBy": "admin",
        "startedAt": None,
        "finishedAt": None,
        "progress": {"done": 0, "total": 0, "people": {"done": 0, "total": 0}},
        "result": None,
        "undoneBy": None,
        "undoOf": None,
        "appliedAs": None,
    }
    # Channels and reasons keep their vocabulary order in the JSON text.
    text = api.get("/api/v1/batches/1").get_data(as_text=True)
    positions = [text.index(f'"{channel}"') for channel in CHANNELS]
    assert positions == sorted(positions)


def test_an_idempotency_key_returns_the_first_batch(
    api: Api, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    first = api.post("/api/v1/batches", STUDENT_BATCH, headers={"Idempotency-Key": "k-1"})
    again = api.post("/api/v1/batches", STUDENT_BATCH, headers={"Idempotency-Key": "k-1"})
    other = api.post("/api/v1/batches", STUDENT_BATCH, headers={"Idempotency-Key": "k-2"})
    assert [r.status_code for r in (first, again, other)] == [202, 202, 202]
    assert [r.get_json()["id"] for r in (first, again, other)] == [1, 1, 2]
    assert batch_count(session_factory) == 2
    assert enqueued.calls == [("batches.plan", (1,)), ("batches.plan", (2,))]


def test_an_overlong_idempotency_key_is_refused(api: Api, session_factory: SessionFactory):
    response = api.post("/api/v1/batches", STUDENT_BATCH, headers={"Idempotency-Key": "k" * 201})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": "must be at most 200 characters",
        "field": "Idempotency-Key",
    }
    assert batch_count(session_factory) == 0


def test_a_failing_broker_leaves_the_batch_queued(
    session_factory: SessionFactory, tmp_path: Path, web_district: dict[str, int]
):
    def enqueue(task_name: str, *args: Any) -> None:
        raise ConnectionRefusedError("broker down")

    app = make_app(session_factory, tmp_path, enqueue=enqueue)  # type: ignore[arg-type]
    api = Api(app.test_client(), add_token(session_factory, "admin"))
    response = api.post("/api/v1/batches", STUDENT_BATCH)
    assert (response.status_code, response.get_json()["status"]) == (202, "queued")
    assert batch_count(session_factory) == 1


def census(filter_id: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"mode": "census", "changes": {"email": {"emergency": "on"}}}
    if filter_id is not None:
        body["filterId"] = filter_id
    return body


def with_changes(changes: Any) -> dict[str, Any]:
    return {**STUDENT_BATCH, "changes": changes}


BAD_BATCHES: list[tuple[str, Any, str, str | None]] = [
    ("malformed JSON", b'{"mode": "student",', "body", "the body is not valid JSON"),
    ("empty body", b"", "body", "the body is not valid JSON"),
    ("a list", [STUDENT_BATCH], "body", "the body must be a JSON object"),
    ("a string", "student", "body", "the body must be a JSON object"),
    ("null", None, "body", "the body must be a JSON object"),
    (
        "unknown mode",
        {**STUDENT_BATCH, "mode": "everyone"},
        "mode",
        "must be one of studentContact, student, census; got 'everyone'",
    ),
    ("unknown field", {**STUDENT_BATCH, "dryrun": True}, "dryrun", "unknown field 'dryrun'"),
    (
        "unknown channel",
        with_changes({"fax": {"emergency": "on"}}),
        "changes.fax",
        "unknown channel; one of " + ", ".join(CHANNELS),
    ),
    (
        "unknown reason",
        with_changes({"email": {"lunch": "on"}}),
        "changes.email.lunch",
        "unknown reason; one of " + ", ".join(REASONS),
    ),
    (
        "unknown option",
        with_changes({"email": {"emergency": "yes"}}),
        "changes.email.emergency",
        "unknown option 'yes'; one of noChange, on, off",
    ),
    ("an SMS reason", with_changes({"cellPhone": {"sms": "on"}}), "changes.cellPhone.sms", None),
    ("a text channel", with_changes({"textMessage": {"emergency": "on"}}),
     "changes.textMessage", None),
    ("an SMS channel", with_changes({"cellPhoneSMS": {"general": "off"}}),
     "changes.cellPhoneSMS", None),
    ("census without filter", census(), "filterId", "Census/Staff mode needs a census filter"),
    ("unknown filter", census(999), "filterId", "no filter with id 999"),
    (
        "unknown calendar",
        {**STUDENT_BATCH, "scope": {"calendarId": "C-X"}},
        "scope.calendarId",
        "no calendar 'C-X'",
    ),
    (
        "missing scope",
        {key: value for key, value in STUDENT_BATCH.items() if key != "scope"},
        "scope",
        "give a calendarId, a schoolId with a schoolYear, or a schoolYear",
    ),
    (
        "bad asOf",
        {**STUDENT_BATCH, "asOf": "2025-13-01"},
        "asOf",
        "there is no such day as 2025-13-01: a month is 01 to 12",
    ),
    (
        "asOf not ISO",
        {**STUDENT_BATCH, "asOf": "10/15/2025"},
        "asOf",
        "must be a date as YYYY-MM-DD; got '10/15/2025'",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [pytest.param(body, field, message, id=name) for name, body, field, message in BAD_BATCHES],
)
def test_bad_batches_are_400_naming_the_field_and_write_nothing(
    api: Api,
    session_factory: SessionFactory,
    enqueued: EnqueueRecorder,
    body: Any,
    field: str,
    message: str | None,
):
    if isinstance(body, bytes):
        response = api.post("/api/v1/batches", data=body)
    else:
        response = api.post("/api/v1/batches", body)
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": TEXT_REFUSAL if message is None else message,
        "field": field,
    }
    assert batch_count(session_factory) == 0
    assert enqueued.calls == []


def test_a_filter_of_the_wrong_kind_is_refused(
    api: Api, web_district: dict[str, int], session_factory: SessionFactory
):
    student_filter = web_district["student_filter"]
    response = api.post("/api/v1/batches", census(student_filter))
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": f"filter {student_filter} is a student filter; census mode needs a census one",
        "field": "filterId",
    }
    accepted = api.post("/api/v1/batches", census(web_district["census_filter"]))
    assert accepted.status_code == 202
    assert batch_count(session_factory) == 1


# --- reading batches ------------------------------------------------------------------------


def test_list_batches_newest_first_with_pages(api: Api):
    for _ in range(3):
        assert api.post("/api/v1/batches", STUDENT_BATCH).status_code == 202

    first = api.get("/api/v1/batches?perPage=2").get_json()
    assert [item["id"] for item in first["items"]] == [3, 2]
    assert {k: first[k] for k in ("page", "perPage", "total")} == {
        "page": 1,
        "perPage": 2,
        "total": 3,
    }
    second = api.get("/api/v1/batches?perPage=2&page=2").get_json()
    assert ([item["id"] for item in second["items"]], second["page"]) == ([1], 2)
    queued = api.get("/api/v1/batches?status=queued").get_json()
    assert ([item["id"] for item in queued["items"]], queued["total"]) == ([3, 2, 1], 3)
    running = api.get("/api/v1/batches?status=running").get_json()
    assert running == {"items": [], "page": 1, "perPage": 50, "total": 0}


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("page=0", "page", "must be a whole number of at least 1; got '0'"),
        ("page=two", "page", "must be a whole number of at least 1; got 'two'"),
        ("perPage=201", "perPage", "must be at most 200; got 201"),
        (
            "status=done",
            "status",
            "must be one of queued, running, succeeded, failed, cancelled",
        ),
    ],
)
def test_list_batches_refuses_bad_parameters(api: Api, query: str, field: str, message: str):
    response = api.get(f"/api/v1/batches?{query}")
    assert response.status_code == 400
    assert error_of(response) == {"code": "invalid", "message": message, "field": field}


def test_unknown_batch_route_and_method(api: Api):
    missing = api.get("/api/v1/batches/99")
    assert missing.status_code == 404
    assert error_of(missing) == {"code": "not_found", "message": "no batch 99", "field": None}

    nowhere = api.get("/api/v1/nowhere")
    assert (nowhere.status_code, error_of(nowhere)["code"]) == (404, "not_found")

    wrong_method = api.client.delete("/api/v1/batches", headers=api.headers)
    assert wrong_method.status_code == 405
    assert error_of(wrong_method)["code"] == "method_not_allowed"
    assert set(wrong_method.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_an_unexpected_error_is_a_json_500(
    sqlite_session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    app = app_with_a_failing_route(sqlite_session_factory, tmp_path, "/api/v1/boom", monkeypatch)
    response = app.test_client().get("/api/v1/boom")
    assert response.status_code == 500
    assert error_of(response) == {"code": "internal", "message": "internal error", "field": None}


def test_json_dates_are_iso_and_keys_keep_their_order(api: Api, web_district: dict[str, int]):
    assert api.post("/api/v1/batches", STUDENT_BATCH).status_code == 202
    text = api.get("/api/v1/batches/1").get_data(as_text=True)
    keys = re.findall(r'"(\w+)":', text)
    assert keys[:4] == ["id", "kind", "status", "mode"]
    assert keys.index("submittedAt") < keys.index("startedAt") < keys.index("finishedAt")
    assert [key for key in keys if key in CHANNELS] == list(CHANNELS)
    assert [key for key in keys if key in REASONS] == list(REASONS) * len(CHANNELS)
    assert '"asOf":"2025-10-15"' in text
    assert re.search(r'"submittedAt":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+\+00:00"', text)
