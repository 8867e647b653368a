"""GET /api/v1/openapi.json: the OpenAPI 3.1 document of the API, written from the route table
(web/api/routes.py) and the pydantic models it names: the schemas are the models' own JSON Schema,
so the document says exactly what the API accepts and answers."""

import json
from functools import cache
from typing import Any, Final, TypeGuard

from flask import Response
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, models_json_schema

from web.api.bodies import Error
from web.api.routes import JSON, Operation, api

Schema = dict[str, Any]
ERROR_ANSWERS: Final = {
    400: "Bad input; `field` names what is wrong",
    401: "No credentials, or unknown ones",
    403: "The user's role, or their reach, does not allow it",
    404: "No such resource, or an id out of range",
    409: "Not possible in the resource's state; the message says why",
    413: "The body is larger than 8 MiB (an import's upload: than CPB_IMPORT_MAX_BYTES)",
}
SECURITY_SCHEMES: Final = {
    "bearerAuth": {"type": "http", "scheme": "bearer"},
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
        "description": "The login session of the web pages; requests that change something "
        "must also send the CSRF token in the X-CSRFToken header.",
    },
}


class WithoutFieldTitles(GenerateJsonSchema):
    """Schemas without a title per field (the name says it); models keep theirs."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


@api.get("/openapi.json", summary="This document", response=JSON)
def openapi() -> Response:
    return Response(_document_json(), mimetype=JSON)


@cache
def _document_json() -> str:
    return json.dumps(openapi_document())


def openapi_document() -> Schema:
    schemas = _schemas(api.operations)
    by_endpoint = {operation.endpoint: operation for operation in api.operations}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Contact Preferences Batch API",
            "version": "1",
            "description": "Set messenger contact preferences en masse, as background batches.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _paths(api.operations, schemas, by_endpoint),
        "components": {
            "schemas": schemas,
            "securitySchemes": SECURITY_SCHEMES,
            "responses": {
                str(status): _json(description, Error)
                for status, description in ERROR_ANSWERS.items()
            },
        },
    }


def _schemas(operations: list[Operation]) -> Schema:
    used: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Error, "serialization")]
    for operation in operations:
        for model, mode in _models_of(operation):
            if (model, mode) not in used:
                used.append((model, mode))
    _, found = models_json_schema(
        used, ref_template="#/components/schemas/{model}", schema_generator=WithoutFieldTitles
    )
    defined: Schema = found.get("$defs", {})
    return defined


def _models_of(operation: Operation) -> list[tuple[type[BaseModel], JsonSchemaMode]]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    if operation.body is not None:
        models.append((operation.body, "validation"))
    if operation.query is not None:
        models.append((operation.query, "validation"))
    answers = [operation.response, *operation.other.values()]
    models += [(answer, "serialization") for answer in answers if _is_model(answer)]
    return models


def _is_model(answer: object) -> TypeGuard[type[BaseModel]]:
    return isinstance(answer, type) and issubclass(answer, BaseModel)


def _paths(
    operations: list[Operation], schemas: Schema, by_endpoint: dict[str, Operation]
) -> Schema:
    paths: Schema = {}
    for operation in operations:
        paths.setdefault(operation.path, {})[operation.method.lower()] = _operation(
            operation, schemas, by_endpoint
        )
    return paths


def _operation(operation: Operation, schemas: Schema, by_endpoint: dict[str, Operation]) -> Schema:
    described: Schema = {
        "summary": operation.summary,
        "operationId": operation.operation_id,
        "parameters": _parameters(operation, schemas),
        "responses": _responses(operation, by_endpoint),
    }
    if not described["parameters"]:
        del described["parameters"]
    if operation.body is not None:
        described["requestBody"] = {
            "required": operation.body_required,
            "content": {JSON: {"schema": _ref(operation.body.__name__)}},
        }
    if operation.upload:
        described["requestBody"] = {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": list(operation.upload),
                        "properties": {
                            name: {**schema, "description": description}
                            for name, (schema, description) in operation.upload.items()
                        },
                    }
                }
            },
        }
    if operation.public:
        described["security"] = []
    return described


def _parameters(operation: Operation, schemas: Schema) -> list[Schema]:
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in operation.path_parameters
    ]
    if operation.query is not None:
        query = schemas[operation.query.__name__]
        required = set(query.get("required", ()))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": _given(schema)}
            for name, schema in query["properties"].items()
        ]
    parameters += [
        {
            "name": header.name,
            "in": "header",
            "required": False,
            "description": header.description,
            "schema": {"type": "string", "maxLength": header.max_length},
        }
        for header in operation.headers
    ]
    return parameters


def _given(schema: Schema) -> Schema:
    """A query parameter's schema without its null: a parameter left out is not sent, while
    `?status=null` is the text "null"."""
    choices = [choice for choice in schema.get("anyOf", ()) if choice != {"type": "null"}]
    if len(choices) == 1 and len(schema["anyOf"]) == 2:
        return choices[0]
    return {key: value for key, value in schema.items() if key != "default" or value is not None}


def _responses(operation: Operation, by_endpoint: dict[str, Operation]) -> Schema:
    answer: Schema = {"description": operation.summary}
    if _is_model(operation.response):
        answer["content"] = {JSON: {"schema": _ref(operation.response.__name__)}}
    elif isinstance(operation.response, str):  # a media type, answered as it is
        kind = "object" if operation.response == JSON else "string"
        answer["content"] = {operation.response: {"schema": {"type": kind}}}
    if operation.links:
        answer["links"] = {
            link.name: {
                "operationId": by_endpoint[link.operation].operation_id,
                "parameters": link.parameters,
            }
            for link in operation.links
        }
    responses: Schema = {str(operation.status): answer}
    for status, model in operation.other.items():
        responses[str(status)] = _json(operation.summary, model)
    for status in _error_statuses(operation):
        responses[str(status)] = {"$ref": f"#/components/responses/{status}"}
    return responses


def _error_statuses(operation: Operation) -> list[int]:
    """The errors an operation may answer: bad input where it takes some (a body, a query, or a
    header), no or unknown credentials and refusals unless it is public, an unknown id in its
    path, a body too large, and those it declares."""
    statuses = set(operation.errors)
    if operation.body is not None or operation.query is not None or operation.headers:
        statuses.add(400)
    if operation.upload:
        statuses |= {400, 413}
    if not operation.public:
        statuses |= {401, 403}
    if operation.path_parameters:
        statuses.add(404)
    if operation.body is not None:
        statuses.add(413)
    return sorted(statuses)


def _json(description: str, model: type[BaseModel]) -> Schema:
    return {"description": description, "content": {JSON: {"schema": _ref(model.__name__)}}}


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}
