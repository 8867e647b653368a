"""Regressions that schemathesis found on the new contract itself (tests/test_api_fuzz.py): what
the document allows is accepted, what it refuses is refused, and an id out of range is not found
whatever the method."""

import pytest

from shared.access.audit import ACTIONS as AUDIT_ACTIONS
from tests.support.contract_api import Api, answer, error, invalid
from tests.support.contract_api import api as api  # the fixture, for pytest to find here

INT32_PAST = 2**31  # one past the id columns


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_filter_id_beyond_the_column_is_not_found_whatever_the_method(api: Api, method: str):
    """Not a 405: werkzeug, told the id was no match, tried the rules of the other methods."""
    body = {"name": "x", "kind": "census", "criteria": {}}
    response = api.send(method, f"/api/v1/filters/{INT32_PAST}", body)
    assert answer(response) == (404, error("not_found", f"no such id: {INT32_PAST}", None))


def test_an_id_written_with_a_fraction_of_zero_is_that_id(api: Api, web_district: dict[str, int]):
    """JSON Schema counts 1.0 as an integer, so the document allows it: it is the id 1."""
    census_filter = web_district["census_filter"]
    body = {
        "mode": "census",
        "filterId": float(census_filter),
        "changes": {"email": {"staff": "on"}},
    }
    submitted = api.post("/api/v1/batches", body)
    assert submitted.status_code == 202
    assert api.get(submitted.headers["Location"]).get_json()["filterId"] == census_filter


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("action=", "action", "must be one of " + ", ".join(AUDIT_ACTIONS)),
        ("page=-1", "page", "must be a whole number of at least 1; got '-1'"),
    ],
)
def test_an_empty_or_negative_query_value_is_refused(
    api: Api, query: str, field: str, message: str
):
    assert answer(api.get(f"/api/v1/audit?{query}")) == invalid(field, message)
