"""The OpenAPI document: exactly the served endpoints, a valid document, and schemas that real
responses match."""

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from shared.access.heartbeats import BEAT, record_heartbeat
from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import Batch
from tests.support.web_api import STUDENT_BATCH, Api
from tests.support.web_api import api as api  # the fixture, for pytest to find here
from web.api.openapi import openapi_document

SERVED = {
    "/health": {"get"},
    "/health/live": {"get"},
    "/health/ready": {"get"},
    "/batches": {"get", "post"},
    "/batches/{batchId}": {"get"},
    "/batches/{batchId}/undo": {"post"},
    "/batches/{batchId}/cancel": {"post"},
    "/batches/{batchId}/apply": {"post"},
    "/batches/{batchId}/changes.csv": {"get"},
    "/batches/{batchId}/result.csv": {"get"},
    "/people/{personId}/preferences": {"get", "patch"},
    "/households/{householdId}/preferences": {"patch"},
    "/audit": {"get"},
    "/preferences.csv": {"get"},
    "/filters": {"get", "post"},
    "/filters/{filterId}": {"get", "put", "delete"},
    "/filters/{filterId}/preview": {"post"},
    "/filters/preview": {"post"},
    "/schedules": {"get", "post"},
    "/schedules/{scheduleId}": {"get", "patch", "delete"},
    "/schedules/{scheduleId}/runs": {"get"},
    "/schedules/{scheduleId}/run": {"post"},
    "/imports": {"get", "post"},
    "/imports/{importId}": {"get"},
    "/imports/{importId}/quarantine.csv": {"get"},
    "/defaults": {"get", "put"},
    "/reach": {"get"},
    "/reach/unreached.csv": {"get"},
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
    # Prometheus's scrape is served beside the API, deliberately outside it and its document.
    beside = {
        rule.rule
        for rule in api.client.application.url_map.iter_rules()
        if not rule.rule.startswith("/api/v1") and rule.endpoint == "metrics"
    }
    assert beside == {"/metrics"}


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
    with session_factory.begin() as session:
        record_heartbeat(session, BEAT, datetime(2025, 10, 15, 8, 30, tzinfo=UTC))
    health = api.get("/api/v1/health").get_json()
    assert health["beatLastTick"] == "2025-10-15T08:30:00+00:00"
    examples = [
        ("BatchRequest", STUDENT_BATCH),
        ("BatchAccepted", accepted.get_json()),
        ("BatchView", queued),
        ("BatchView", batch),
        ("BatchList", listed),
        ("Error", api.get("/api/v1/batches/99").get_json()),
        ("FilterList", api.get("/api/v1/filters").get_json()),
        ("Health", health),
        ("Health", api.get("/api/v1/health/ready").get_json()),
        ("Liveness", api.get("/api/v1/health/live").get_json()),
    ]
    for name, instance in examples:
        schema = {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
        errors = [e.message for e in OAS31Validator(schema).iter_errors(instance)]
        assert (name, errors) == (name, [])
    assert set(document["components"]["schemas"]["BatchView"]["properties"]) == set(batch)
