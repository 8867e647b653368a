"""The JSON API: health, batch submission and its refusals, listing, one batch, filters, a
person's preferences, the CSV export and the OpenAPI document."""

import base64
import json
import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from celery import Celery
from flask.testing import FlaskClient
from sqlalchemy import insert, select, update

from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.grids import TEXT_REFUSAL
from shared.core.settings import Settings
from shared.core.vocabulary import CHANNELS, REASONS, SETTER_GUARDIAN, mask_of
from shared.models import AuditEntry, Batch, Household, HouseholdMember, Person, preferences
from shared.people.export import iter_preferences_csv
from shared.people.view import person_preferences
from tests.support.driver import as_json
from tests.support.services import free_port
from tests.support.web import (
    EnqueueRecorder,
    add_token,
    app_with_a_failing_route,
    batch_count,
    bearer,
    error_of,
    make_app,
)
from web import create_app
from web.api.openapi import openapi_document
from web.celery_client import CeleryClient
from worker.celery_app import create_celery

STUDENT_BATCH = {
    "mode": "student",
    "scope": {"calendarId": "C-N-26"},
    "asOf": "2025-10-15",
    "changes": {"email": {"emergency": "on", "attendance": "off"}, "homePhone": {"staff": "on"}},
}
NO_CHANGE_ROW = dict.fromkeys(REASONS, "noChange")


class Api:
    """A test client that signs every request with a bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if data is None:
            data = json.dumps(body).encode()
        return self.client.post(
            path,
            data=data,
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )


@pytest.fixture
def api(
    session_factory: SessionFactory,
    tmp_path: Path,
    enqueued: EnqueueRecorder,
    web_district: dict[str, int],
) -> Api:
    app = make_app(session_factory, tmp_path, enqueued)
    return Api(app.test_client(), add_token(session_factory, "admin"))


# --- health ---------------------------------------------------------------------------------


def broker_down() -> None:
    raise ConnectionRefusedError("[Errno 111] Connection refused")


@pytest.mark.parametrize(
    ("broker_check", "status", "body"),
    [
        (lambda: None, 200, {"database": "ok", "broker": "ok"}),
        (broker_down, 503, {"database": "ok", "broker": "down"}),
    ],
)
def test_health_reports_the_broker(
    sqlite_session_factory: SessionFactory,
    tmp_path: Path,
    broker_check: Callable[[], None],
    status: int,
    body: dict[str, str],
):
    client = make_app(sqlite_session_factory, tmp_path, broker_check=broker_check).test_client()
    response = client.get("/api/v1/health")  # no credentials needed
    assert (response.status_code, response.get_json()) == (status, body)


def test_health_reports_the_database(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path}/no/such/dir/cpb.sqlite3")
    try:
        client = make_app(make_session_factory(engine), tmp_path).test_client()
        response = client.get("/api/v1/health")
    finally:
        engine.dispose()
    assert (response.status_code, response.get_json()) == (
        503,
        {"database": "down", "broker": "ok"},
    )


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
        "progress": {"done": 0, "total": 0},
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
        "must be a date as YYYY-MM-DD; got '2025-13-01'",
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


# --- filters --------------------------------------------------------------------------------


def test_filters_create_and_list(
    api: Api, web_district: dict[str, int], session_factory: SessionFactory
):
    body = {"name": "teachers", "kind": "census", "criteria": {"staff": True}}
    created = api.post("/api/v1/filters", body)
    assert created.status_code == 201
    assert created.get_json() == {
        "id": 3,
        "name": "teachers",
        "kind": "census",
        "criteria": {"staff": True},
    }
    listed = api.get("/api/v1/filters").get_json()
    assert [(f["id"], f["name"], f["kind"]) for f in listed["items"]] == [
        (1, "grades 9-10", "student"),
        (2, "staff", "census"),
        (3, "teachers", "census"),
    ]
    with session_factory() as session:
        audit = session.execute(
            select(
                AuditEntry.username, AuditEntry.action, AuditEntry.subject, AuditEntry.detail
            ).where(AuditEntry.action == "filter.create")
        ).all()
    assert audit == [("admin", "filter.create", "filter:3", {"name": "teachers", "kind": "census"})]


def test_a_bad_filter_is_400(api: Api):
    response = api.post("/api/v1/filters", {"name": " ", "kind": "census", "criteria": {}})
    assert response.status_code == 400
    assert error_of(response) == {
        "code": "invalid",
        "message": "a filter needs a name",
        "field": "name",
    }
    assert api.get("/api/v1/filters").get_json()["items"][-1]["name"] == "staff"
    assert error_of(api.post("/api/v1/filters", data=b"{")) == {
        "code": "invalid",
        "message": "the body is not valid JSON",
        "field": "body",
    }


# --- preferences ----------------------------------------------------------------------------


def add_family(factory: SessionFactory) -> None:
    with factory.begin() as session:
        mother = Person(ext_id="P-1", first_name="Ana", last_name="Lima", email="ana@example.org")
        home = Household(ext_id="H-1", name="Lima", phone="555-0100")
        session.add_all([mother, home])
        session.flush()
        session.add(HouseholdMember(household_id=home.id, person_id=mother.id, start_date=None))
        session.execute(
            insert(preferences).values(subject_id=home.id, channel=0, mask=mask_of(["emergency"]))
        )
        session.execute(
            insert(preferences).values(
                subject_id=mother.id,
                channel=CHANNELS.index("email"),
                mask=mask_of(["emergency", "priority"]),
                setter_priority=SETTER_GUARDIAN,
            )
        )


def test_a_person_s_preferences(api: Api, session_factory: SessionFactory):
    add_family(session_factory)
    response = api.get("/api/v1/people/P-1/preferences")
    assert response.status_code == 200
    body = response.get_json()
    with session_factory() as session:
        assert body == as_json(person_preferences(session, "P-1"))
    assert body["channels"]["email"]["address"] == "ana@example.org"
    assert body["channels"]["email"]["values"]["priority"] is True
    assert body["channels"]["email"]["setters"]["priority"] == "guardian"
    assert [h["householdId"] for h in body["households"]] == ["H-1"]

    missing = api.get("/api/v1/people/P-9/preferences")
    assert (missing.status_code, error_of(missing)) == (
        404,
        {"code": "not_found", "message": "no person 'P-9'", "field": None},
    )


def test_the_preference_export_is_streamed_csv(api: Api, session_factory: SessionFactory):
    add_family(session_factory)
    response = api.get("/api/v1/preferences.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.is_streamed is True
    assert response.get_data(as_text=True) == (
        "subjectType,subjectId,channel,address,emergency,attendance,behavior,staff,general,"
        "foodService,priority,teacher,guardianSet\r\n"
        "household,H-1,householdPhone,555-0100,1,0,0,0,0,0,0,0,\r\n"
        "person,P-1,email,ana@example.org,1,0,0,0,0,0,1,0,priority\r\n"
    )
    with session_factory() as session:
        assert response.get_data(as_text=True) == "".join(iter_preferences_csv(session))


# --- OpenAPI --------------------------------------------------------------------------------

SERVED = {
    "/health": {"get"},
    "/batches": {"get", "post"},
    "/batches/{batchId}": {"get"},
    "/batches/{batchId}/undo": {"post"},
    "/batches/{batchId}/cancel": {"post"},
    "/batches/{batchId}/apply": {"post"},
    "/batches/{batchId}/changes.csv": {"get"},
    "/people/{personId}/preferences": {"get", "patch"},
    "/households/{householdId}/preferences": {"patch"},
    "/audit": {"get"},
    "/preferences.csv": {"get"},
    "/filters": {"get", "post"},
    "/filters/{filterId}": {"get", "put", "delete"},
    "/filters/{filterId}/preview": {"post"},
    "/openapi.json": {"get"},
}
PATH_PARAMETER = re.compile(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>")


def as_openapi_path(rule: str) -> str:
    """`/batches/<id:batch_id>` -> `/batches/{batchId}`."""
    return PATH_PARAMETER.sub(lambda found: "{" + camel(found.group(1)) + "}", rule)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def test_openapi_describes_exactly_the_served_endpoints(api: Api):
    response = api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    assert {path: set(item) for path, item in document["paths"].items()} == SERVED
    served = {
        (as_openapi_path(rule.rule.removeprefix("/api/v1")), method.lower())
        for rule in api.client.application.url_map.iter_rules()
        if rule.rule.startswith("/api/v1")
        for method in rule.methods or ()
        if method not in {"HEAD", "OPTIONS"}
    }
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    assert served == described


def test_openapi_is_a_valid_document():
    validator = pytest.importorskip("openapi_spec_validator")
    validator.validate(openapi_document())


def test_openapi_schemas_match_real_responses(
    api: Api, web_district: dict[str, int], session_factory: SessionFactory
):
    pytest.importorskip("openapi_schema_validator")
    from openapi_schema_validator import OAS31Validator

    document = openapi_document()
    accepted = api.post(
        "/api/v1/batches", {**STUDENT_BATCH, "filterId": web_district["student_filter"]}
    )
    queued = api.get("/api/v1/batches/1").get_json()
    counts = {c: {r: (3 if r == "emergency" else None) for r in REASONS} for c in CHANNELS}
    with session_factory.begin() as session:
        session.execute(
            update(Batch)
            .where(Batch.id == 1)
            .values(status="succeeded", targets=3, counts=counts, kept=counts, chunks_total=1)
        )
    batch = api.get("/api/v1/batches/1").get_json()
    assert batch["result"] == {"targets": 3, "errors": [], "counts": counts, "kept": counts}
    listed = api.get("/api/v1/batches").get_json()
    examples = [
        ("BatchRequest", STUDENT_BATCH),
        ("BatchAccepted", accepted.get_json()),
        ("BatchView", queued),
        ("BatchView", batch),
        ("BatchList", listed),
        ("Error", api.get("/api/v1/batches/99").get_json()),
        ("FilterList", api.get("/api/v1/filters").get_json()),
        ("Health", api.get("/api/v1/health").get_json()),
    ]
    for name, instance in examples:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = [e.message for e in OAS31Validator(schema).iter_errors(instance)]
        assert (name, errors) == (name, [])
    assert set(document["components"]["schemas"]["BatchView"]["properties"]) == set(batch)


# --- the default enqueue and broker check (a Celery client on real Redis) --------------------


def settings_with_broker(tmp_path: Path, broker_url: str | None) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path}/cpb.sqlite3",
        broker_url=broker_url,
        secret_key="test",
        instance_path=tmp_path,
    )


def test_default_health_check_of_the_embedded_broker(tmp_path: Path):
    app = create_app(settings_with_broker(tmp_path, None))  # Celery's in-memory transport
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        200,
        {"database": "ok", "broker": "ok"},
    )


@pytest.mark.redis
def test_default_health_checks_use_the_configured_broker(tmp_path: Path, redis_url: str):
    app = create_app(settings_with_broker(tmp_path, redis_url))
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        200,
        {"database": "ok", "broker": "ok"},
    )

    dead = f"redis://127.0.0.1:{free_port()}/0"
    app = create_app(settings_with_broker(tmp_path, dead))
    started = time.monotonic()
    response = app.test_client().get("/api/v1/health")
    assert (response.status_code, response.get_json()) == (
        503,
        {"database": "ok", "broker": "down"},
    )
    assert time.monotonic() - started < 10


@pytest.mark.redis
def test_the_default_enqueue_sends_the_task_by_name(tmp_path: Path, redis_url: str):
    queue = f"cpb-web-test-{os.getpid()}"

    def make_celery() -> Celery:
        celery = create_celery(settings_with_broker(tmp_path, redis_url))
        celery.conf.task_default_queue = queue  # no worker listens here
        return celery

    client = CeleryClient(make_celery)
    connection = redis.Redis.from_url(redis_url)
    try:
        client.enqueue("batches.plan", 41)
        [raw] = connection.lrange(queue, 0, -1)
    finally:
        connection.delete(queue)
        connection.close()
    message = json.loads(raw)
    assert message["headers"]["task"] == "batches.plan"
    assert json.loads(base64.b64decode(message["body"]))[0] == [41]
