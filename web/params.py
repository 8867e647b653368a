"""Reading the request body, and the page count of a list (queries are in web/queries.py)."""

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


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill; one at least, for the empty list."""
    return max(1, -(-total // per_page))
