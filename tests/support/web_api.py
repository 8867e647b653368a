"""The JSON API's tests: a test client that signs every request with a bearer token, the `api`
fixture (admin's token, on web_district's district), and the student batch they submit."""

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.web import EnqueueRecorder, add_token, bearer, make_app

STUDENT_BATCH = {
    "mode": "student",
    "scope": {"calendarId": "C-N-26"},
    "asOf": "2025-10-15",
    "changes": {"email": {"emergency": "on", "attendance": "off"}, "homePhone": {"staff": "on"}},
}


class Api:
    """A test client that signs every request with a bearer token."""

    def __init__(self, client: FlaskClient, token: str) -> None:
        self.client = client
        self.headers = bearer(token)

    def get(self, path: str) -> Any:
        return self.client.get(path, headers=self.headers)

    def post(
        self,
        path: str,
        body: Any = None,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        if data is None:
            data = json.dumps(body).encode()
        return self.client.post(
            path,
            data=data,
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )


@pytest.fixture
def api(
    session_factory: SessionFactory,
    tmp_path: Path,
    enqueued: EnqueueRecorder,
    web_district: dict[str, int],
) -> Api:
    app = make_app(session_factory, tmp_path, enqueued)
    return Api(app.test_client(), add_token(session_factory, "admin"))
