"""A small JSON client for a real web process on loopback (the standard library's)."""

import json
import urllib.request
from typing import Any


class HttpClient:
    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        self.base_url = base_url
        self.headers = headers

    def get(self, path: str) -> Any:
        return self._send(urllib.request.Request(self.base_url + path, headers=self.headers))

    def post(self, path: str, body: Any) -> Any:
        request = urllib.request.Request(
            self.base_url + path,
            data=json.dumps(body).encode(),
            headers=self.headers | {"Content-Type": "application/json"},
            method="POST",
        )
        return self._send(request)

    @staticmethod
    def _send(request: urllib.request.Request) -> Any:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
