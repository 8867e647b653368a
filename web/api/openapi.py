"""GET /api/v1/openapi.json: the OpenAPI 3.0 description of the endpoints this app serves.

Written by hand; only the lists of channels, reasons, options and statuses come from the
vocabulary, so the document cannot disagree with the validation about them.
"""

from typing import Any

from flask import Blueprint

from shared.access.audit import ACTIONS
from shared.core.vocabulary import CHANNELS, MODES, OPTIONS, REASONS
from shared.models.batches import ACTIVE_STATUSES, FINAL_STATUSES

Schema = dict[str, Any]


def register(api: Blueprint) -> None:
    api.add_url_rule("/openapi.json", "openapi", openapi_json, methods=["GET"])


def openapi_json() -> Schema:
    return openapi_document()


def openapi_document() -> Schema:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Contact Preferences Batch API",
            "version": "1",
            "description": "Set messenger contact preferences en masse, as background batches.",
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearerAuth": []}, {"sessionCookie": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer"},
                "sessionCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "The login session of the web pages; requests that change "
                    "something must also send the CSRF token in the X-CSRFToken header.",
                },
            },
            "schemas": _schemas(),
            "responses": {
                name: _error_response(description)
                for name, description in (
                    ("BadRequest", "Bad input; `field` names what is wrong"),
                    ("Unauthorized", "No or unknown credentials"),
                    ("Forbidden", "The user's role does not allow it"),
                    ("NotFound", "No such resource"),
                    ("Conflict", "Not possible in the resource's state; the message says why"),
                )
            },
        },
    }


def _paths() -> Schema:
    return {
        "/health": {
            "get": {
                "summary": "Whether the database and the broker answer",
                "operationId": "health",
                "security": [],
                "responses": {
                    "200": _json("Both answer", "Health"),
                    "503": _json("At least one is down", "Health"),
                },
            }
        },
        "/batches": {
            "post": {
                "summary": "Submit a batch",
                "operationId": "submitBatch",
                "parameters": [
                    {
                        "name": "Idempotency-Key",
                        "in": "header",
                        "required": False,
                        "description": "A resubmission with the same key returns the first batch",
                        "schema": {"type": "string", "maxLength": 200},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("BatchRequest")}},
                },
                "responses": {
                    "202": _json("Accepted: the batch is queued", "BatchAccepted"),
                    **_errors("BadRequest", "Unauthorized", "Forbidden"),
                },
            },
            "get": {
                "summary": "The batches, newest first",
                "operationId": "listBatches",
                "parameters": [
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}),
                    _query(
                        "perPage", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
                    ),
                    _query("status", {"type": "string", "enum": _statuses()}),
                ],
                "responses": {
                    "200": _json("A page of batches", "BatchList"),
                    **_errors("BadRequest", "Unauthorized"),
                },
            },
        },
        "/batches/{batchId}": {
            "get": {
                "summary": "One batch: status, progress and, once finished, the result",
                "operationId": "getBatch",
                "parameters": [_path_param("batchId", {"type": "integer"})],
                "responses": {
                    "200": _json("The batch", "BatchView"),
                    **_errors("Unauthorized", "NotFound"),
                },
            }
        },
        "/batches/{batchId}/undo": _batch_action(
            "Undo a finished batch: restore each value it changed, with its setter, unless it "
            "changed since (counted as a conflict). Runs as a batch of kind undo",
            "undoBatch",
            "202",
            _json("Accepted: the undo batch is queued", "BatchAccepted"),
        ),
        "/batches/{batchId}/cancel": _batch_action(
            "Stop a queued or running batch between chunks; what it applied stays recorded "
            "and can be undone",
            "cancelBatch",
            "200",
            _json("The batch, cancelled", "BatchView"),
        ),
        "/batches/{batchId}/apply": _batch_action(
            "Apply a preview (a dry run that succeeded): the same request, for real. A "
            "preview is applied once; applying it again returns that batch",
            "applyPreview",
            "202",
            _json("Accepted: the batch is queued", "BatchAccepted"),
        ),
        "/batches/{batchId}/changes.csv": {
            "get": {
                "summary": "A batch's change log, streamed as CSV (for a dry run: what would "
                "change)",
                "operationId": "getBatchChanges",
                "parameters": [_path_param("batchId", {"type": "integer"})],
                "responses": {
                    "200": {
                        "description": "One row per subject, channel and reason the batch "
                        "changed: subjectType,subjectId,channel,reason,before,after,setterBefore",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **_errors("Unauthorized", "NotFound"),
                },
            }
        },
        "/people/{personId}/preferences": {
            "get": {
                "summary": "A person's addresses and preference values, and their households'",
                "operationId": "getPersonPreferences",
                "parameters": [_path_param("personId", {"type": "string"})],
                "responses": {
                    "200": _json("The person's preferences", "PersonPreferences"),
                    **_errors("Unauthorized", "NotFound"),
                },
            },
            "patch": {
                "summary": "Record a guardian's or a clerk's choices for the person's channels",
                "operationId": "editPersonPreferences",
                "parameters": [_path_param("personId", {"type": "string"})],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("PreferenceEdit")}},
                },
                "responses": {
                    "200": _json("The person's preferences after the edit", "PersonPreferences"),
                    **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound"),
                },
            },
        },
        "/households/{householdId}/preferences": {
            "patch": {
                "summary": "Record a guardian's or a clerk's choices for a household phone",
                "operationId": "editHouseholdPreferences",
                "parameters": [_path_param("householdId", {"type": "string"})],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("PreferenceEdit")}},
                },
                "responses": {
                    "200": _json(
                        "The household's preferences after the edit", "HouseholdPreferences"
                    ),
                    **_errors("BadRequest", "Unauthorized", "Forbidden", "NotFound"),
                },
            }
        },
        "/preferences.csv": {
            "get": {
                "summary": "Every preference, streamed as CSV (SPEC section 7)",
                "operationId": "exportPreferences",
                "responses": {
                    "200": {
                        "description": "One row per subject and channel with an address",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **_errors("Unauthorized"),
                },
            }
        },
        "/filters": {
            "get": {
                "summary": "The saved ad hoc filters",
                "operationId": "listFilters",
                "responses": {
                    "200": _json("The filters", "FilterList"),
                    **_errors("Unauthorized"),
                },
            },
            "post": {
                "summary": "Save an ad hoc filter",
                "operationId": "createFilter",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("FilterRequest")}},
                },
                "responses": {
                    "201": _json("The saved filter", "Filter"),
                    **_errors("BadRequest", "Unauthorized", "Forbidden"),
                },
            },
        },
        "/audit": {
            "get": {
                "summary": "The audit log, newest first (district admins only)",
                "operationId": "listAudit",
                "parameters": [
                    _query("page", {"type": "integer", "minimum": 1, "default": 1}),
                    _query(
                        "perPage", {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
                    ),
                    _query("action", {"type": "string", "enum": list(ACTIONS)}),
                    _query("username", {"type": "string"}),
                ],
                "responses": {
                    "200": _json("A page of audit entries", "AuditList"),
                    **_errors("BadRequest", "Unauthorized", "Forbidden"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "openapi",
                "responses": {
                    "200": {
                        "description": "The OpenAPI document",
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    **_errors("Unauthorized"),
                },
            }
        },
    }


def _schemas() -> Schema:
    nullable_string = {"type": "string", "nullable": True}
    nullable_datetime = {"type": "string", "format": "date-time", "nullable": True}
    return {
        "Error": _object(
            {
                "error": _object(
                    {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "field": {
                            **nullable_string,
                            "description": "The field at fault, e.g. changes.cellPhone.sms",
                        },
                    },
                    required=["code", "message", "field"],
                )
            },
            required=["error"],
        ),
        "Health": _object(
            {
                "database": {"type": "string", "enum": ["ok", "down"]},
                "broker": {"type": "string", "enum": ["ok", "down"]},
            },
            required=["database", "broker"],
        ),
        "Option": {"type": "string", "enum": list(OPTIONS), "default": "noChange"},
        "Changes": _object(
            {
                channel: _object({reason: _ref("Option") for reason in REASONS})
                for channel in CHANNELS
            },
            description="The option per channel and reason; anything missing is noChange. "
            "Text-message (SMS) channels or reasons are refused.",
        ),
        "Counts": _object(
            {
                channel: _object(
                    {reason: {"type": "integer", "nullable": True} for reason in REASONS},
                    required=list(REASONS),
                )
                for channel in CHANNELS
            },
            required=list(CHANNELS),
            description="Per channel and reason: null for noChange, else a number of values",
        ),
        "Scope": _scope(),
        "BatchRequest": _object(
            {
                "mode": {"type": "string", "enum": list(MODES)},
                "scope": _ref("Scope"),
                "filterId": {
                    "type": "integer",
                    "nullable": True,
                    "description": "A saved filter: student kind, or census kind (required "
                    "for census mode)",
                },
                "asOf": {"type": "string", "format": "date", "description": "Default: today"},
                "changes": _ref("Changes"),
                "keepGuardianChoices": {"type": "boolean", "default": False},
                "dryRun": {"type": "boolean", "default": False},
            },
            required=["mode"],
        ),
        "BatchAccepted": _object(
            {
                "id": {"type": "integer"},
                "status": {"type": "string", "enum": _statuses()},
                "url": {"type": "string"},
            },
            required=["id", "status", "url"],
        ),
        "BatchResult": _result(),
        "BatchView": _object(
            {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": ["batch", "undo"]},
                "status": {"type": "string", "enum": _statuses()},
                "mode": {"type": "string", "enum": list(MODES), "nullable": True},
                "scope": {**_scope(), "nullable": True, "description": "null in census mode"},
                "filterId": {"type": "integer", "nullable": True},
                "asOf": {"type": "string", "format": "date"},
                "changes": _ref("Changes"),
                "keepGuardianChoices": {"type": "boolean"},
                "dryRun": {"type": "boolean"},
                "submittedBy": nullable_string,
                "submittedAt": {"type": "string", "format": "date-time"},
                "startedAt": nullable_datetime,
                "finishedAt": nullable_datetime,
                "progress": _object(
                    {"done": {"type": "integer"}, "total": {"type": "integer", "nullable": True}},
                    required=["done", "total"],
                ),
                "result": {
                    **_result(),
                    "nullable": True,
                    "description": "null until the batch has finished",
                },
                "undoneBy": {"type": "integer", "nullable": True},
                "undoOf": {
                    "type": "integer",
                    "nullable": True,
                    "description": "For an undo: the batch it undoes",
                },
                "appliedAs": {
                    "type": "integer",
                    "nullable": True,
                    "description": "For a preview: the batch it was applied as, once it is",
                },
            },
            required=["id", "kind", "status", "asOf", "changes", "progress", "result"],
            closed=False,
        ),
        "BatchList": _object(
            {
                "items": {"type": "array", "items": _ref("BatchView")},
                "page": {"type": "integer"},
                "perPage": {"type": "integer"},
                "total": {"type": "integer"},
            },
            required=["items", "page", "perPage", "total"],
        ),
        "FilterRequest": _object(
            {
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": ["student", "census"]},
                "criteria": {
                    "type": "object",
                    "description": "student: grades, schoolIds, personIds; census: personIds, "
                    "staff, assignmentSchoolIds, students, messengerContacts (SPEC section 6)",
                },
            },
            required=["name", "kind", "criteria"],
        ),
        "Filter": _object(
            {
                "id": {"type": "integer"},
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": ["student", "census"]},
                "criteria": {"type": "object"},
            },
            required=["id", "name", "kind", "criteria"],
        ),
        "FilterList": _object(
            {"items": {"type": "array", "items": _ref("Filter")}}, required=["items"]
        ),
        "AuditEntry": _object(
            {
                "id": {"type": "integer"},
                "at": {"type": "string", "format": "date-time"},
                "username": {
                    **nullable_string,
                    "description": "Who acted; null for the command line or the system",
                },
                "action": {"type": "string", "example": "batch.submit"},
                "subject": {**nullable_string, "example": "batch:12"},
                "detail": {"type": "object", "nullable": True},
            },
            required=["id", "at", "username", "action", "subject", "detail"],
        ),
        "AuditList": _object(
            {
                "items": {"type": "array", "items": _ref("AuditEntry")},
                "page": {"type": "integer"},
                "perPage": {"type": "integer"},
                "total": {"type": "integer"},
            },
            required=["items", "page", "perPage", "total"],
        ),
        "PreferenceEdit": _object(
            {
                "setBy": {"type": "string", "enum": ["guardian", "staff"]},
                "changes": _ref("Changes"),
            },
            required=["setBy", "changes"],
            description="Every reason set on or off gets the value and the setter setBy, even "
            "when the value was already equal. A person's edit names only personal channels, "
            "a household's only householdPhone; a channel without an address is refused.",
        ),
        "ReasonValues": _object(
            {reason: {"type": "boolean"} for reason in REASONS},
            required=list(REASONS),
            description="Per reason: on (true) or off (false)",
        ),
        "ReasonSetters": _object(
            {reason: {"type": "string"} for reason in REASONS},
            required=list(REASONS),
            description="Per reason, who set the value last: default, import, guardian, staff "
            "or batch:<id>",
        ),
        "HouseholdPreferences": _object(
            {
                "householdId": {"type": "string"},
                "name": {"type": "string"},
                "phone": nullable_string,
                "values": _ref("ReasonValues"),
                "setters": _ref("ReasonSetters"),
            },
            required=["householdId", "name", "phone", "values", "setters"],
        ),
        "PersonPreferences": {
            "type": "object",
            "description": "The person's addresses and, per channel and reason, the value and "
            "who set it last (default, import, guardian, staff or batch:<id>); the same for "
            "the phones of the households the person belongs to",
        },
    }


# Scope and BatchResult are written out where they may be null: OpenAPI 3.0 ignores `nullable`
# beside a $ref, and validators reject null through an allOf.
def _scope() -> Schema:
    nullable_string = {"type": "string", "nullable": True}
    return _object(
        {
            "schoolYear": {**nullable_string, "example": "2025-26"},
            "schoolId": nullable_string,
            "calendarId": nullable_string,
        },
        description="A calendarId; a schoolId with a schoolYear; or a schoolYear alone",
    )


def _result() -> Schema:
    return _object(
        {
            "targets": {"type": "integer"},
            "errors": {"type": "array", "items": {"type": "string"}},
            "counts": _ref("Counts"),
            "kept": _ref("Counts"),
            "conflicts": {
                **_ref("Counts"),
                "description": "For an undo only: per channel and reason, the values left as "
                "they are because they changed after the batch",
            },
            "sample": {
                "type": "array",
                "description": "For a preview only: the first values it would change",
                "items": _object(
                    {
                        "subjectType": {"type": "string", "enum": ["person", "household"]},
                        "subjectId": {"type": "string"},
                        "name": {"type": "string"},
                        "channel": {"type": "string", "enum": list(CHANNELS)},
                        "changes": {
                            "type": "object",
                            "additionalProperties": {"type": "string", "enum": ["on", "off"]},
                        },
                    },
                    required=["subjectType", "subjectId", "name", "channel", "changes"],
                ),
            },
        },
        required=["targets", "errors", "counts", "kept"],
    )


def _statuses() -> list[str]:
    return [*ACTIVE_STATUSES, *FINAL_STATUSES]


def _object(
    properties: Schema,
    *,
    required: list[str] | None = None,
    description: str | None = None,
    closed: bool = True,
) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: str) -> Schema:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _batch_action(summary: str, operation_id: str, status: str, response: Schema) -> Schema:
    return {
        "post": {
            "summary": summary,
            "operationId": operation_id,
            "parameters": [_path_param("batchId", {"type": "integer"})],
            "responses": {
                status: response,
                **_errors("Unauthorized", "Forbidden", "NotFound", "Conflict"),
            },
        }
    }


def _errors(*names: str) -> Schema:
    status = {
        "BadRequest": "400",
        "Unauthorized": "401",
        "Forbidden": "403",
        "NotFound": "404",
        "Conflict": "409",
    }
    return {status[name]: {"$ref": f"#/components/responses/{name}"} for name in names}


def _error_response(description: str) -> Schema:
    return _json(description, "Error")


def _query(name: str, schema: Schema) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _path_param(name: str, schema: Schema) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema}
