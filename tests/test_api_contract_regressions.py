"""Regressions of the JSON API's contract that a schemathesis run found: ids and page numbers
beyond the database's integers, strings the database cannot store, a `setBy` of the wrong type,
an overlong filter name, timestamps without an offset on SQLite, a body without a size limit.
The inputs refused from now on: tests/test_api_contract_refused_inputs.py.

Each case answers what the fixed API does: the status and the whole error; a refused request
writes nothing. Each failed on the code before the fix (6494ff6). The module imports only what
keeps its name through the restructuring of the packages, so the session factory is typed `Any`.
"""

import json
import re
from typing import Any

import pytest

from tests.support.contract_api import STUDENT_BATCH, Api, answer, error, invalid
from tests.support.contract_api import api as api  # the fixture, for pytest to find here
from tests.support.web import EnqueueRecorder

INT32_PAST = 2**31  # one past PostgreSQL's integer, the batches' and filters' id column
INT64_PAST = 2**63  # one past PostgreSQL's bigint and SQLite's integer
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
FILTER_NAME_WIDTH = 200  # the filters.name column
MAX_BODY = 8 * 1024 * 1024
SURROGATE = "must be Unicode text; it holds a lone surrogate"
CONTROL = "must not contain U+{:04X} (a control character, a bidi control or a lone surrogate)"


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
    assert answer(response) == (404, error("not_found", f"no such id: {batch_id}", None))
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
    message = f"must be at most {INT32_PAST - 1}"
    assert answer(api.post("/api/v1/batches", body)) == invalid("filterId", message)
    assert api.batch_total() == 0
    assert enqueued.calls == []


# --- 3. page numbers beyond any offset ------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/batches", "/api/v1/audit"], ids=["batches", "audit"])
def test_a_page_number_beyond_any_offset_is_refused(api: Api, path: str):
    response = api.get(f"{path}?page=100000000000000000000")
    message = f"must be at most {INT32_PAST - 1}; got 100000000000000000000"
    assert answer(response) == invalid("page", message)


# --- 4. strings the database cannot store ---------------------------------------------------


def test_a_lone_surrogate_in_a_batch_is_refused(api: Api, enqueued: EnqueueRecorder):
    data = (
        b'{"mode": "studentContact", "scope": {"schoolYear": "\\ud800"},'
        b' "changes": {"email": {"emergency": "on"}}}'
    )
    assert answer(api.post("/api/v1/batches", data=data)) == invalid("scope.schoolYear", SURROGATE)
    assert api.batch_total() == 0
    assert enqueued.calls == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        pytest.param({"name": "\ud800"}, "name", SURROGATE, id="name-lone-surrogate"),
        pytest.param(
            {"name": "tea\u0000chers"},
            "name",
            CONTROL.format(0) + " at character 4",
            id="name-NUL",
        ),
        pytest.param(
            {"name": "tea\u001bchers"},
            "name",
            CONTROL.format(0x1B) + " at character 4",
            id="name-ESC",
        ),
        pytest.param(
            {"name": "grade 9", "criteria": {"grades": ["\ud800"]}},
            "criteria.grades.0",
            SURROGATE,
            id="criterion-lone-surrogate",
        ),
    ],
)
def test_a_filter_with_an_unstorable_character_is_refused(
    api: Api, body: dict[str, Any], field: str, message: str
):
    before = api.filters()
    response = api.post("/api/v1/filters", {"kind": "student", "criteria": {}, **body})
    assert answer(response) == invalid(field, message)
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
    message = f"must be one of guardian, staff; got {set_by!r}"
    assert answer(api.send("PATCH", path, body)) == invalid("setBy", message)
    assert api.get(path).get_json() == before.get_json()


# --- 6. a filter name longer than its column ------------------------------------------------


def test_a_filter_name_longer_than_its_column_is_refused(api: Api):
    before = api.filters()
    too_long = {"name": "n" * (FILTER_NAME_WIDTH + 1), "kind": "census", "criteria": {}}
    message = f"must be at most {FILTER_NAME_WIDTH} characters"
    assert answer(api.post("/api/v1/filters", too_long)) == invalid("name", message)
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


# --- 11. a body over the size limit ---------------------------------------------------------


def test_a_body_over_8_mib_is_too_large(api: Api, enqueued: EnqueueRecorder):
    data = json.dumps({**STUDENT_BATCH, "padding": "x" * (9 * 1024 * 1024)}).encode()
    assert len(data) > MAX_BODY
    response = api.post("/api/v1/batches", data=data)
    message = "The data value transmitted exceeds the capacity limit."
    assert answer(response) == (413, error("request_entity_too_large", message, None))
    assert (api.batch_total(), enqueued.calls) == (0, [])
