"""The real stack the fault tests break (the `faults` fixture): the district of
tests/support/stack.py on PostgreSQL, a broker, real `celery worker` and `celery beat` processes,
the app answering the API, and gunicorn serving it where the web process itself is killed.

The settings are the defaults a district runs, but for chunks of one target and three starts of
a plan or chunk before it fails its batch. Every test compares what
the damaged run left with a clean run of the same batches on the same data: the clean run goes
first, then the data is reset to the same state (same rows, same ids) for the faulty run.
"""

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
from sqlalchemy import Engine

from shared.access.tokens import create_token
from shared.access.users import create_user
from shared.core.db import SessionFactory
from shared.core.settings import Settings
from shared.imports.native import import_bundle
from tests.support.faults import Stopwatch, moved_again
from tests.support.processes import background_process, celery_beat, celery_worker, wait_until
from tests.support.stack import BUNDLE, FINAL, empty_tables
from web import create_app
from web.celery_client import CeleryClient

# The lease, the sweep interval, the task time limit and the visibility timeout are the
# defaults, as a district runs them; only the district is small (four chunks of one target).
RECOVERY_ENV = {
    "CPB_CHUNK_SIZE": "1",
    "CPB_TASK_ATTEMPTS": "3",
    "SECRET_KEY": "fault-tests",
}
# The outcome of clean runs, by the batches they ran: the district and the code are the same
# for every test, so one clean run serves them all.
_clean_runs: dict[str, "Outcome"] = {}


@dataclass(frozen=True)
class Outcome:
    """What a run of batches left: each batch as the API shows it (without its times), each
    batch's change log, and the whole district's preferences."""

    batches: list[dict[str, Any]]
    changes: list[str]
    export: str


class FaultStack:
    def __init__(
        self,
        pg_url: str,
        broker_url: str,
        engine: Engine,
        session_factory: SessionFactory,
        tmp_path: Path,
    ) -> None:
        self.pg_url = pg_url
        self.broker_url = broker_url
        self.engine = engine
        self.session_factory = session_factory
        self.env = {
            "DATABASE_URL": pg_url,
            "CELERY_BROKER_URL": broker_url,
            "CPB_INSTANCE_PATH": str(tmp_path / "instance"),
            **RECOVERY_ENV,
        }
        self.settings = Settings.from_env(self.env)
        self.bundle = tmp_path / "bundle"
        self.bundle.mkdir()
        for name, text in BUNDLE.items():
            (self.bundle / name).write_text(text)
        # How many times the app sends each message (2: every plan is delivered twice).
        self.copies = 1
        broker = CeleryClient.for_settings(self.settings)

        def enqueue(task_name: str, *args: Any) -> None:
            for _ in range(self.copies):
                broker.enqueue(task_name, *args)

        app = create_app(self.settings, session_factory=session_factory, enqueue=enqueue)
        self.client = app.test_client()
        self.headers: dict[str, str] = {}

    # --- the data ---------------------------------------------------------------------------

    def reset(self) -> None:
        """The district as imported, the user ada with a fresh token, ids from 1, and an empty
        broker (no message of an earlier run can reach this one)."""
        empty_tables(self.engine)
        with redis.Redis.from_url(self.broker_url, socket_timeout=10) as broker:
            broker.flushdb()
        with self.session_factory.begin() as session:
            import_bundle(session, self.bundle)
            create_user(session, "ada", "district_admin", None, [])
            token = create_token(session, "ada", name="fault tests")
        self.headers = {"Authorization": f"Bearer {token}"}

    # --- processes --------------------------------------------------------------------------

    def worker(
        self, concurrency: int = 1, app: str = "worker", env: dict[str, str] | None = None
    ) -> contextlib.AbstractContextManager["subprocess.Popen[bytes]"]:
        return celery_worker(env or self.env, concurrency=concurrency, app=app)

    def beat(self) -> contextlib.AbstractContextManager["subprocess.Popen[bytes]"]:
        return celery_beat(self.env)

    # --- the API ----------------------------------------------------------------------------

    def submit(self, body: dict[str, Any]) -> int:
        response = self.client.post("/api/v1/batches", json=body, headers=self.headers)
        assert response.status_code == 202, response.get_json()
        batch_id: int = response.get_json()["id"]
        return batch_id

    def view(self, batch_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/batches/{batch_id}", headers=self.headers)
        assert response.status_code == 200, response.get_json()
        view: dict[str, Any] = response.get_json()
        return view

    def finished(self, batch_id: int, timeout: float = 90) -> dict[str, Any]:
        def final() -> dict[str, Any] | None:
            view = self.view(batch_id)
            return view if view["status"] in FINAL else None

        return wait_until(final, timeout=timeout, interval=0.1, message=f"batch {batch_id}")

    def text(self, path: str) -> str:
        response = self.client.get(path, headers=self.headers)
        assert response.status_code == 200, path
        return response.get_data(as_text=True)

    def outcome(self, batch_ids: list[int]) -> Outcome:
        views = [self.finished(batch_id) for batch_id in batch_ids]
        return Outcome(
            batches=[_without_times(view) for view in views],
            changes=[self.text(f"/api/v1/batches/{i}/changes.csv") for i in batch_ids],
            export=self.text("/api/v1/preferences.csv"),
        )

    def recovered(self, record_property: Any, clock: Stopwatch, batch_ids: list[int]) -> None:
        """Records how long the batches took, from the fault, to move again (`moved_seconds`:
        a chunk committed or a batch finalized) and to their final state (`recovery_seconds`,
        read when the run's outcome was complete)."""
        record_property("recovery_seconds", clock.seconds())
        moved = moved_again(self.engine, batch_ids, clock.started_at)
        record_property("moved_seconds", None if moved is None else clock.until(moved))

    def clean_run(self, bodies: list[dict[str, Any]]) -> Outcome:
        """The batches run one after another with nothing going wrong; then the data is reset.
        Needs a worker running."""
        key = json.dumps(bodies, sort_keys=True)
        if key not in _clean_runs:
            self.reset()
            ids = []
            for body in bodies:
                ids.append(self.submit(body))
                self.finished(ids[-1])
            _clean_runs[key] = self.outcome(ids)
        self.reset()
        return _clean_runs[key]


def _without_times(view: dict[str, Any]) -> dict[str, Any]:
    times = ("submittedAt", "startedAt", "finishedAt")
    return {name: value for name, value in view.items() if name not in times}


@contextlib.contextmanager
def fault_stack(
    pg_url: str,
    broker_url: str,
    engine: Engine,
    session_factory: SessionFactory,
) -> Iterator[FaultStack]:
    with tempfile.TemporaryDirectory(prefix="cpb-faults-") as scratch:
        yield FaultStack(pg_url, broker_url, engine, session_factory, Path(scratch))


@pytest.fixture
def faults(pg_url, redis_url, pg_engine, pg_session_factory) -> Iterator[FaultStack]:
    with fault_stack(pg_url, redis_url, pg_engine, pg_session_factory) as stack:
        yield stack


def final_view(view: dict[str, Any]) -> dict[str, Any] | None:
    return view if view["status"] in ("succeeded", "failed", "cancelled") else None


@contextlib.contextmanager
def gunicorn(faults: FaultStack, port: int) -> Iterator[Any]:
    command = [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "2", "web:create_app()"]
    with background_process("gunicorn", command, faults.env, ready=r"Booting worker") as web:
        yield web
