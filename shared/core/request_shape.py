"""The first check of every JSON request body the services take: an object naming only the
fields its request knows."""

from collections.abc import Collection
from typing import Any

from shared.core.errors import InvalidRequest


def object_with_fields(payload: Any, fields: Collection[str]) -> dict[str, Any]:
    """`payload` as a dict, or 400: not an object, or a field not in `fields` (named)."""
    if not isinstance(payload, dict):
        raise InvalidRequest("the request body must be a JSON object")
    for key in payload:
        if key not in fields:
            raise InvalidRequest(f"unknown field {key!r}", field=str(key))
    return payload
