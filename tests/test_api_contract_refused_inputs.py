"""Inputs the JSON API accepted until now and refuses from now on: a census batch with a scope, a
filterId given as a string, a batch that changes nothing. Each case answers the status and the
whole error; a refused request writes nothing. The regressions a schemathesis run found:
tests/test_api_contract_regressions.py.
"""

from typing import Any

import pytest

from tests.support.contract_api import STUDENT_BATCH, Api, answer, invalid
from tests.support.contract_api import api as api  # the fixture, for pytest to find here
from tests.support.web import EnqueueRecorder

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
    message = "Census/Staff mode takes no scope: its census filter says who"
    assert answer(refused) == invalid("scope", message)
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
    assert answer(api.post("/api/v1/batches", body)) == invalid(
        "filterId", "must be a whole number"
    )
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
    message = "nothing to change: set at least one reason of a channel to on or off"
    assert answer(api.post("/api/v1/batches", body)) == invalid("changes", message)
    assert (api.batch_total(), enqueued.calls) == (0, [])
