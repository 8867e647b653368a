"""What the regression tests of the JSON API's contract share: a test client that signs every
request with admin's bearer token (the `api` fixture, on web_district's district), the answer a
refusal gives, and the student batch they submit. Like the tests, it imports only what keeps its
name through the restructuring of the packages (they were first run on the code before it), so
the session factory is typed `Any`."""

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.web import EnqueueRecorder, add_token, bearer, make_app

STUDENT_BATCH: dict[str, Any] = {
    "mode": "student",
    "scope": {"calendarId": "C-N-26"},
    "asOf": "2025-10-15",
    "changes": {"email": {"emergency": "on"}},
}


def error(code: str, message: str, field: str | None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "field": field}}


def invalid(field: str, message: str) -> tuple[int, dict[str, Any]]:
    """What a refusal of bad input answers: 400, code invalid, naming `field`."""
    return 400, error("invalid", message, field)


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.get_json(silent=True)


class Api:
    """A test client of the app that signs every request with admin's bearer token."""

    def __init__(self, factory: Any, tmp_path: Path, enqueued: EnqueueRecorder) -> None:
        self.client = make_app(factory, tmp_path, enqueued).test_client()
        self.headers = bearer(add_token(factory, "admin"))

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def send(self, method: str, path: str, body: Any = None, *, data: bytes | None = None) -> Any:
        """`body` as JSON; json.dumps escapes what is not ASCII, so a lone surrogate travels
        as the escape `\\ud800`, as a fuzzer sends it."""
        return self.client.open(
            path,
            method=method,
            data=json.dumps(body).encode() if data is None else data,
            content_type="application/json",
            headers=self.headers,
        )

    def post(self, path: str, body: Any = None, *, data: bytes | None = None) -> Any:
        return self.send("POST", path, body, data=data)

    def batch_total(self) -> int:
        response = self.get("/api/v1/batches")
        assert response.status_code == 200
        total: int = response.get_json()["total"]
        return total

    def filters(self) -> list[tuple[int, str, str, dict[str, Any]]]:
        response = self.get("/api/v1/filters")
        assert response.status_code == 200
        return [
            (f["id"], f["name"], f["kind"], f["criteria"]) for f in response.get_json()["items"]
        ]


@pytest.fixture
def api(
    session_factory: Any, tmp_path: Path, enqueued: EnqueueRecorder, web_district: dict[str, int]
) -> Api:
    return Api(session_factory, tmp_path, enqueued)
