"""The benchmarks' HTTP client: one keep-alive connection to the app with a bearer token, whose
every call is timed and recorded per endpoint (shared by threads, with the first few failures
word for word), and the percentiles of what it recorded."""

import http.client
import json
import math
import threading
import time
from dataclasses import dataclass, field
from typing import Any

SAMPLES = 5  # failed answers and exceptions quoted in the report
# gunicorn closes a connection idle for `keepalive` (5 s); a request sent at that moment fails
# with RemoteDisconnected, the client's race and not the server's fault, so reconnect before.
IDLE_RECONNECT_SECONDS = 4.0

View = dict[str, Any]  # GET /api/v1/batches/<id>


@dataclass
class Endpoint:
    latencies_ms: list[float] = field(default_factory=list)  # of the requests answered
    non_2xx: int = 0
    server_errors: int = 0
    exceptions: int = 0


class Stats:
    """Figures per endpoint, shared by threads, and the first few failures word for word."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.samples: list[str] = []
        self._lock = threading.Lock()

    def record(self, label: str, status: int, elapsed_ms: float, failure: str) -> None:
        """status 0: no answer (an exception)."""
        with self._lock:
            endpoint = self.endpoints.setdefault(label, Endpoint())
            endpoint.exceptions += status == 0
            if status:
                endpoint.latencies_ms.append(elapsed_ms)
                endpoint.non_2xx += not 200 <= status < 300
                endpoint.server_errors += status >= 500
            if (status == 0 or status >= 500) and len(self.samples) < SAMPLES:
                self.samples.append(f"{label}: {failure}")

    def server_errors(self) -> int:
        return sum(endpoint.server_errors for endpoint in self.endpoints.values())


class Client:
    """One keep-alive connection to the app, with the bearer token; every call is recorded."""

    def __init__(self, port: int, token: str, stats: Stats) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.port, self.token, self.stats = port, token, stats
        self.last_answer = 0.0

    def call(self, label: str, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """(status, body), or (0, b"") after an exception; the next call reconnects."""
        data = None if body is None else json.dumps(body)
        if time.monotonic() - self.last_answer > IDLE_RECONNECT_SECONDS:
            self.connection.close()
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=data, headers=self.headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.stats.record(label, 0, 0.0, f"{method} {path}: {exc!r}")
            return 0, b""
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.last_answer = time.monotonic()
        failure = f"{method} {path}: {response.status} {content[:300]!r}"
        self.stats.record(label, response.status, elapsed_ms, failure)
        return response.status, content

    def view(self, batch_id: int) -> View:
        status, content = self.call("checks", "GET", f"/api/v1/batches/{batch_id}")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/batches/{batch_id}: {status} {content[:300]!r}")
        view: View = json.loads(content)
        return view

    def submit(self, label: str, body: dict[str, Any]) -> int | None:
        status, content = self.call(label, "POST", "/api/v1/batches", body)
        return int(json.loads(content)["id"]) if status == 202 else None


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least a share q of the values at or below it."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan
