"""Reading the request: the JSON body and query parameters, with errors that name the field."""

import json
from typing import Any

from flask import request

from shared.core.errors import InvalidRequest


def json_object_body() -> dict[str, Any]:
    """The body as a JSON object, whatever the Content-Type says."""
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the body is not valid JSON", field="body") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the body must be a JSON object", field="body")
    return body


def positive_int_arg(name: str, default: int, *, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise InvalidRequest(f"must be a whole number of at least 1; got {raw!r}", field=name)
    value = int(raw)
    if maximum is not None and value > maximum:
        raise InvalidRequest(f"must be at most {maximum}; got {value}", field=name)
    return value


def optional_arg(name: str) -> str | None:
    """A query parameter; absent and empty are the same."""
    return request.args.get(name) or None


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill; one at least, for the empty list."""
    return max(1, -(-total // per_page))
