"""Regressions of the JSON API's contract: what a schemathesis run found (ids and page numbers
beyond the database's integers, strings the database cannot store, a `setBy` of the wrong type,
an overlong filter name, timestamps without an offset on SQLite, a body without a size limit),
and inputs accepted until now that are refused from now on (a census batch with a scope, a
filterId given as a string, a batch that changes nothing).

Each case answers what the fixed API will: the status, and the error's `code` and `field` (its
message is not asserted, the wording is still being decided); a refused request writes nothing.
The module imports only what keeps its name through the restructuring of the packages, so the
session factory is typed `Any`.
"""

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.web import EnqueueRecorder, add_token, bearer, make_app

INT32_PAST = 2**31  # one past PostgreSQL's integer, the batches' and filters' id column
INT64_PAST = 2**63  # one past PostgreSQL's bigint and SQLite's integer
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FILTER_NAME_WIDTH = 200  # the filters.name column
MAX_BODY = 8 * 1024 * 1024

STUDENT_BATCH: dict[str, Any] = {
    "mode": "student",
    "scope": {"calendarId": "C-N-26"},
    "asOf": "2025-10-15",
    "changes": {"email": {"emergency": "on"}},
}


class AnyMessage:
    """Equal to any non-empty text: the error messages are still being decided."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and other.strip() != ""

    def __repr__(self) -> str:
        return "<a message>"


def error(code: str, field: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": AnyMessage(), "field": field}}


def invalid(field: str) -> tuple[int, dict[str, Any]]:
    """What a refusal of bad input answers: 400, code invalid, naming `field`."""
    return 400, error("invalid", field)


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.get_json(silent=True)


class Api:
    """A test client of the app that signs every request with admin's bearer token."""

    def __init__(self, factory: Any, tmp_path: Path, enqueued: EnqueueRecorder) -> None:
        self.client = make_app(factory, tmp_path, enqueued).test_client()
        self.headers = bearer(add_token(factory, "admin"))

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def send(self, method: str, path: str, body: Any = None, *, data: bytes | None = None) -> Any:
        """`body` as JSON; json.dumps escapes what is not ASCII, so a lone surrogate travels
        as the escape `\\ud800`, as a fuzzer sends it."""
        return self.client.open(
            path,
            method=method,
            data=json.dumps(body).encode() if data is None else data,
            content_type="application/json",
            headers=self.headers,
        )

    def post(self, path: str, body: Any = None, *, data: bytes | None = None) -> Any:
        return self.send("POST", path, body, data=data)

    def batch_total(self) -> int:
        response = self.get("/api/v1/batches")
        assert response.status_code == 200
        total: int = response.get_json()["total"]
        return total

    def filters(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        response = self.get("/api/v1/filters")
        assert response.status_code == 200
        return [
            (f["id"], f["name"], f["kind"], f["criteria"]) for f in response.get_json()["items"]
        ]


@pytest.fixture
def api(
    session_factory: Any, tmp_path: Path, enqueued: EnqueueRecorder, web_district: dict[str, int]
) -> Api:
    return Api(session_factory, tmp_path, enqueued)


def on(database: str, *values: Any, name: str) -> Any:
    """A case run on one database only: `database` is the session_factory fixture's parameter
    (so it goes with indirect=["session_factory"])."""
    marks = [pytest.mark.postgres] if database == "postgres" else []
    return pytest.param(database, *values, marks=marks, id=f"{database}-{name}")


# SQLite's integers have 64 bits, so 2^31 is an ordinary id there and already a 404 (or, in a
# body, "no filter with that id"); the 2^31 cases run on PostgreSQL only, where the integer
# column cannot hold it. 2^63 overflows both.
BEYOND_THE_ID_COLUMN = [
    on("postgres", INT32_PAST, name="2^31"),
    on("sqlite", INT64_PAST, name="2^63"),
    on("postgres", INT64_PAST, name="2^63"),
]

# --- 1. ids beyond the column in paths ------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", "/api/v1/batches/{}", id="get"),
        pytest.param("POST", "/api/v1/batches/{}/undo", id="undo"),
        pytest.param("POST", "/api/v1/batches/{}/cancel", id="cancel"),
        pytest.param("POST", "/api/v1/batches/{}/apply", id="apply"),
        pytest.param("GET", "/api/v1/batches/{}/changes.csv", id="changes.csv"),
    ],
)
@pytest.mark.parametrize(
    ("session_factory", "batch_id"), BEYOND_THE_ID_COLUMN, indirect=["session_factory"]
)
def test_a_batch_id_beyond_the_column_is_not_found(
    api: Api, enqueued: EnqueueRecorder, method: str, path: str, batch_id: int
):
    response = api.send(method, path.format(batch_id), data=b"")
    assert answer(response) == (404, error("not_found", None))
    assert api.batch_total() == 0
    assert enqueued.calls == []


# --- 2. ids beyond the column in bodies -----------------------------------------------------


@pytest.mark.parametrize(
    ("session_factory", "filter_id"), BEYOND_THE_ID_COLUMN, indirect=["session_factory"]
)
def test_a_filter_id_beyond_the_column_is_refused(
    api: Api, enqueued: EnqueueRecorder, filter_id: int
):
    body = {"mode": "census", "filterId": filter_id, "changes": {"email": {"emergency": "on"}}}
    assert answer(api.post("/api/v1/batches", body)) == invalid("filterId")
    assert api.batch_total() == 0
    assert enqueued.calls == []


# --- 3. page numbers beyond any offset ------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/batches", "/api/v1/audit"], ids=["batches", "audit"])
def test_a_page_number_beyond_any_offset_is_refused(api: Api, path: str):
    response = api.get(f"{path}?page=100000000000000000000")
    assert answer(response) == invalid("page")


# --- 4. strings the database cannot store ---------------------------------------------------


def test_a_lone_surrogate_in_a_batch_is_refused(api: Api, enqueued: EnqueueRecorder):
    data = (
        b'{"mode": "studentContact", "scope": {"schoolYear": "\\ud800"},'
        b' "changes": {"email": {"emergency": "on"}}}'
    )
    assert answer(api.post("/api/v1/batches", data=data)) == invalid("scope.schoolYear")
    assert api.batch_total() == 0
    assert enqueued.calls == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "\ud800"}, "name", id="name-lone-surrogate"),
        pytest.param({"name": "tea\u0000chers"}, "name", id="name-NUL"),
        pytest.param({"name": "tea\u001bchers"}, "name", id="name-ESC"),
        pytest.param(
            {"name": "grade 9", "criteria": {"grades": ["\ud800"]}},
            "criteria.grades.0",
            id="criterion-lone-surrogate",
        ),
    ],
)
def test_a_filter_with_an_unstorable_character_is_refused(
    api: Api, body: dict[str, Any], field: str
):
    before = api.filters()
    response = api.post("/api/v1/filters", {"kind": "student", "criteria": {}, **body})
    assert answer(response) == invalid(field)
    assert api.filters() == before


# --- 5. setBy of the wrong type -------------------------------------------------------------


def add_person(factory: Any) -> str:
    """P-1, with an email; in SQL, as the models' module moves in the restructuring."""
    with factory.begin() as session:
        session.connection().exec_driver_sql(
            "INSERT INTO people (ext_id, first_name, last_name, email) "
            "VALUES ('P-1', 'Ana', 'Lima', 'ana@example.org')"
        )
    return "P-1"


@pytest.mark.parametrize(
    "set_by",
    [pytest.param({"who": "guardian"}, id="object"), pytest.param(["guardian"], id="list")],
)
def test_a_set_by_that_is_not_a_string_is_refused(api: Api, session_factory: Any, set_by: Any):
    path = f"/api/v1/people/{add_person(session_factory)}/preferences"
    before = api.get(path)
    assert before.status_code == 200
    body = {"setBy": set_by, "changes": {"email": {"emergency": "on"}}}
    assert answer(api.send("PATCH", path, body)) == invalid("setBy")
    assert api.get(path).get_json() == before.get_json()


# --- 6. a filter name longer than its column ------------------------------------------------


def test_a_filter_name_longer_than_its_column_is_refused(api: Api):
    before = api.filters()
    too_long = {"name": "n" * (FILTER_NAME_WIDTH + 1), "kind": "census", "criteria": {}}
    assert answer(api.post("/api/v1/filters", too_long)) == invalid("name")
    assert api.filters() == before

    widest = {"name": "n" * FILTER_NAME_WIDTH, "kind": "census", "criteria": {}}
    created = api.post("/api/v1/filters", widest)
    assert answer(created) == (201, {"id": 3, **widest})
    assert sorted(api.filters()) == sorted([*before, (3, "n" * FILTER_NAME_WIDTH, "census", {})])


# --- 7. timestamps with an offset -----------------------------------------------------------


# PostgreSQL keeps the offset in its timestamptz columns already; SQLite's come back naive.
@pytest.mark.parametrize("session_factory", ["sqlite"], indirect=True)
def test_batch_timestamps_have_an_offset_on_sqlite(api: Api):
    submitted = api.post("/api/v1/batches", STUDENT_BATCH)
    assert submitted.status_code == 202
    url = submitted.headers["Location"]
    queued = api.get(url).get_json()
    assert queued["status"] == "queued"
    assert RFC3339.match(queued["submittedAt"]) is not None, queued["submittedAt"]

    # A cancel finishes the queued batch; it never started.
    cancelled = api.post(f"{url}/cancel", data=b"")
    assert cancelled.status_code == 200
    view = cancelled.get_json()
    assert (view["status"], view["startedAt"]) == ("cancelled", None)
    assert RFC3339.match(view["finishedAt"]) is not None, view["finishedAt"]
    assert api.get(url).get_json() == view


# --- 8. a census batch has no scope ---------------------------------------------------------


def census(filter_id: Any, **extra: Any) -> dict[str, Any]:
    return {
        "mode": "census",
        "filterId": filter_id,
        "changes": {"email": {"emergency": "on"}},
        **extra,
    }


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param({"schoolYear": "2025-26"}, id="schoolYear"),
        pytest.param({"schoolId": "S-N", "schoolYear": "2025-26"}, id="schoolId"),
        pytest.param({"calendarId": "C-N-26"}, id="calendarId"),
    ],
)
def test_a_census_batch_with_a_scope_is_refused(
    api: Api, enqueued: EnqueueRecorder, web_district: dict[str, int], scope: dict[str, str]
):
    census_filter = web_district["census_filter"]
    refused = api.post("/api/v1/batches", census(census_filter, scope=scope))
    assert answer(refused) == invalid("scope")
    assert (api.batch_total(), enqueued.calls) == (0, [])

    # No scope, in each way of saying so, is still accepted.
    unscoped = [
        census(census_filter),
        census(census_filter, scope=None),
        census(census_filter, scope={}),
    ]
    statuses = [api.post("/api/v1/batches", body).status_code for body in unscoped]
    assert (statuses, api.batch_total()) == ([202, 202, 202], 3)


# --- 9. a filterId is a number --------------------------------------------------------------


def test_a_filter_id_given_as_a_string_is_refused(
    api: Api, enqueued: EnqueueRecorder, web_district: dict[str, int]
):
    body = census(str(web_district["census_filter"]))
    assert answer(api.post("/api/v1/batches", body)) == invalid("filterId")
    assert (api.batch_total(), enqueued.calls) == (0, [])


# --- 10. a batch changes something ----------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"email": {"emergency": "noChange"}, "homePhone": {}}, id="all-noChange"),
        pytest.param(None, id="absent"),
        pytest.param({}, id="empty"),
    ],
)
def test_a_batch_that_changes_nothing_is_refused(
    api: Api, enqueued: EnqueueRecorder, changes: dict[str, Any] | None
):
    body = {key: value for key, value in STUDENT_BATCH.items() if key != "changes"}
    if changes is not None:
        body["changes"] = changes
    assert answer(api.post("/api/v1/batches", body)) == invalid("changes")
    assert (api.batch_total(), enqueued.calls) == (0, [])


# --- 11. a body over the size limit ---------------------------------------------------------


def test_a_body_over_8_mib_is_too_large(api: Api, enqueued: EnqueueRecorder):
    data = json.dumps({**STUDENT_BATCH, "padding": "x" * (9 * 1024 * 1024)}).encode()
    assert len(data) > MAX_BODY
    response = api.post("/api/v1/batches", data=data)
    assert answer(response) == (413, error("request_entity_too_large", None))
    assert (api.batch_total(), enqueued.calls) == (0, [])
