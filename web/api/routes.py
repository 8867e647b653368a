"""The API's route table: every endpoint declared once, with the pydantic models of its request
body, query and response. The same declaration parses each request (a problem is a 400 that
names the field) and writes the OpenAPI document (web/api/openapi.py), so the two cannot differ.

Why a table of our own and not flask-openapi3 or spectree: those replace Flask's app or its
error answers with their own, and this API keeps its own error shape, its per-endpoint access
rules (web/access.py, by endpoint name) and its streamed CSV answers; pydantic already writes the
schemas, so what is left is this table and the document built from it.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from flask import Blueprint, Response, request
from pydantic import BaseModel
from werkzeug.exceptions import NotFound
from werkzeug.routing import BaseConverter

from shared.core.contract import MAX_ID, parse
from web.params import json_object_body
from web.queries import query_of

JSON: Final = "application/json"
CSV: Final = "text/csv"
# A rule's path parameters: <converter:name> or <name>.
PATH_PARAMETER: Final = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


class IdConverter(BaseConverter):
    """A row id in a path: ASCII digits, 1 to 2^31 - 1 (the range of the id columns). Any
    other number is a 404 at once, whatever the method, and never a query the database
    refuses. (Not a ValidationError: werkzeug would then try the rules of the other methods on
    the same path and answer 405.)"""

    regex = "[0-9]+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise NotFound(f"no such id: {value[:20]}")
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


class ExtIdConverter(BaseConverter):
    """A district identifier in a path (a person, a household): 1 to 64 characters, `/`
    included (a district may use ids like `2025/0042`; a `%2F` reaches the app decoded). Where
    a path holds two ids (a person's household on the person page), a person id that itself
    holds `/households/` is read up to there."""

    regex = ".{1,64}?"
    part_isolating = False


CONVERTERS: Final = {"id": IdConverter, "ext_id": ExtIdConverter}
PATH_SCHEMAS: Final = {
    "id": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
    "ext_id": {"type": "string", "minLength": 1, "maxLength": 64},
}


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: an operation that takes a value of this one's response."""

    name: str
    operation: str  # the endpoint's name
    parameters: dict[str, str]  # parameter name -> runtime expression


@dataclass(frozen=True)
class Header:
    name: str
    description: str
    max_length: int


@dataclass(frozen=True)
class Operation:
    method: str
    rule: str
    endpoint: str
    summary: str
    status: int
    response: type[BaseModel] | str | None  # a model, a media type (streamed), or no content
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()  # besides those every operation may answer (see openapi.py)
    other: dict[int, type[BaseModel]] = field(default_factory=dict)  # non-error answers
    links: tuple[Link, ...] = ()
    headers: tuple[Header, ...] = ()
    public: bool = False
    # A multipart/form-data upload: form field -> (JSON schema, description); the view reads
    # request.files and request.form itself.
    upload: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)

    @property
    def path(self) -> str:
        """The rule as an OpenAPI path: `/batches/<id:batch_id>` -> `/batches/{batchId}`."""
        return PATH_PARAMETER.sub(lambda found: "{" + camel(found.group(2)) + "}", self.rule)

    @property
    def path_parameters(self) -> list[tuple[str, dict[str, Any]]]:
        return [
            (camel(name), PATH_SCHEMAS.get(converter or "default", {"type": "string"}))
            for converter, name in PATH_PARAMETER.findall(self.rule)
        ]

    @property
    def operation_id(self) -> str:
        return camel(self.endpoint)

    @property
    def body_required(self) -> bool:
        """Whether a request must send a body: not when every field of it may be left out."""
        return self.body is not None and any(
            field.is_required() for field in self.body.model_fields.values()
        )


Answer = BaseModel | Response | tuple[BaseModel, dict[str, str]] | None


@dataclass
class ApiRoutes:
    """The blueprint of the API and the operations declared on it."""

    blueprint: Blueprint
    operations: list[Operation] = field(default_factory=list)

    def get(self, rule: str, **declared: Any) -> Callable[[Callable[..., Answer]], Any]:
        return self.route("GET", rule, **declared)

    def post(self, rule: str, **declared: Any) -> Callable[[Callable[..., Answer]], Any]:
        return self.route("POST", rule, **declared)

    def put(self, rule: str, **declared: Any) -> Callable[[Callable[..., Answer]], Any]:
        return self.route("PUT", rule, **declared)

    def patch(self, rule: str, **declared: Any) -> Callable[[Callable[..., Answer]], Any]:
        return self.route("PATCH", rule, **declared)

    def delete(self, rule: str, **declared: Any) -> Callable[[Callable[..., Answer]], Any]:
        return self.route("DELETE", rule, **declared)

    def route(
        self, method: str, rule: str, *, summary: str, status: int = 200, **declared: Any
    ) -> Callable[[Callable[..., Answer]], Any]:
        """Declare the view below as the endpoint of `method` `rule`. The view is called with
        the path's parameters, `body=` (the parsed body model) and `query=` (the parsed query
        model) when declared, and returns a model, a (model, headers) pair, a streamed
        Response, or None for no content."""

        def register(view: Callable[..., Answer]) -> Callable[..., Answer]:
            operation = Operation(method, rule, view.__name__, summary, status, **declared)

            @functools.wraps(view)
            def endpoint(**path: Any) -> Response:
                return _respond(operation, view(**path, **_parsed(operation)))

            self.blueprint.add_url_rule(rule, view.__name__, endpoint, methods=[method])
            self.operations.append(operation)
            return view

        return register


def _parsed(operation: Operation) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    if operation.body is not None:
        empty = not operation.body_required and not request.get_data(cache=True)
        parsed["body"] = parse(operation.body, {} if empty else json_object_body())
    if operation.query is not None:
        parsed["query"] = query_of(operation.query)
    return parsed


def _respond(operation: Operation, answer: Answer) -> Response:
    if isinstance(answer, Response):
        return answer
    if answer is None:
        return Response(status=operation.status)
    headers: dict[str, str] = {}
    if isinstance(answer, tuple):
        answer, headers = answer
    body = answer.model_dump_json(by_alias=True)
    return Response(body, status=operation.status, mimetype=JSON, headers=headers)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


api = ApiRoutes(Blueprint("api", __name__, url_prefix="/api/v1"))
