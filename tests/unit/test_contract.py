"""The contract as a whole, without a database: the grids name every channel and reason in the
vocabulary's order, the query models parse as the API does, and the OpenAPI document written from
the route table is valid and says what each operation may answer."""

from typing import Any

import pytest
from openapi_spec_validator import validate

from shared.core.contract import MAX_ID, parse
from shared.core.errors import InvalidRequest
from shared.core.grids import ByChannel, ByPersonalChannel, ByReason, ChangesRequest, ReasonOptions
from shared.core.vocabulary import CHANNELS, PERSONAL_CHANNELS, REASONS, BatchStatus
from web.api.openapi import openapi_document
from web.queries import AuditQuery, BatchListQuery


def aliases(model: Any) -> list[str]:
    return [field.alias or name for name, field in model.model_fields.items()]


def test_the_grids_follow_the_vocabulary():
    assert aliases(ReasonOptions) == aliases(ByReason) == list(REASONS)
    assert aliases(ChangesRequest) == aliases(ByChannel) == list(CHANNELS)
    assert aliases(ByPersonalChannel) == [CHANNELS[channel] for channel in PERSONAL_CHANNELS]


def test_queries_parse_strings_and_refuse_what_the_document_does_not_allow():
    query = parse(BatchListQuery, {"page": "3", "perPage": "20", "status": "running", "x": "1"})
    assert (query.page, query.per_page, query.status) == (3, 20, BatchStatus.RUNNING)
    assert parse(AuditQuery, {}) == AuditQuery(page=1, per_page=50, action=None, username=None)
    for raw, field, message in [
        ({"page": "0"}, "page", "must be a whole number of at least 1; got '0'"),
        ({"page": ""}, "page", "must be a whole number of at least 1; got ''"),
        ({"page": str(MAX_ID + 1)}, "page", f"must be at most {MAX_ID}; got {MAX_ID + 1}"),
        ({"perPage": "201"}, "perPage", "must be at most 200; got 201"),
        ({"status": "done"}, "status", "must be one of " + ", ".join(BatchStatus)),
    ]:
        with pytest.raises(InvalidRequest) as refused:
            parse(BatchListQuery, raw)
        assert (refused.value.field, refused.value.message) == (field, message)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return openapi_document()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
    ]


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]):
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_operation_says_what_it_may_answer(document: dict[str, Any]):
    for path, method, operation in operations(document):
        answers = set(operation["responses"])
        public = operation.get("security") == []
        assert public == (path in ("/health", "/health/live", "/health/ready")), path
        assert {"401", "403"} <= answers or public, (method, path)
        assert "404" in answers or "{" not in path, (method, path)
        if "requestBody" in operation:
            assert {"400", "413"} <= answers, (method, path)


def test_request_bodies_refuse_unknown_fields(document: dict[str, Any]):
    schemas = document["components"]["schemas"]

    def resolved(schema: dict[str, Any]) -> dict[str, Any]:
        return schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema

    for path, method, operation in operations(document):
        if "requestBody" in operation:
            (content,) = operation["requestBody"]["content"].values()  # JSON, or a multipart upload
            body = resolved(content["schema"])
            for each in body.get("oneOf", [body]):  # a tagged body: each of its models
                assert resolved(each)["additionalProperties"] is False, (method, path)


def test_links_name_operations_that_take_the_linked_parameter(document: dict[str, Any]):
    by_id = {operation["operationId"]: operation for _, _, operation in operations(document)}
    linked = 0
    for _, _, operation in operations(document):
        for answer in operation["responses"].values():
            for link in answer.get("links", {}).values():
                target = by_id[link["operationId"]]
                names = {parameter["name"] for parameter in target.get("parameters", [])}
                assert set(link["parameters"]) <= names
                linked += 1
    assert linked >= 10
