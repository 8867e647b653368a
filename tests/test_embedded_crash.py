"""The embedded default survives a crash: `cpb run` SIGKILLed in the middle of a batch, then
started again, finishes the batch exactly once. What it left is compared with a clean run of the
same batch on a copy of the same database: the batch (status, progress, counts), its change log
and the whole district's preferences must be equal.

`cpb run` keeps its queue in memory, so the kill loses every message; what was committed (the
plan, the chunks done, each in one SQLite transaction) stays, and on its next start `cpb run`
sends again whatever is still to do (worker/recovery.py).
"""

import contextlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import REPO_ROOT, background_process, kill_hard, wait_until
from tests.support.services import free_port

CPB = [sys.executable, "-c", "from cli.main import main; main()"]
# Enough chunks (about 150, of 4 targets) that the kill lands in the middle of the batch.
ENV = {"DATABASE_URL": "", "CELERY_BROKER_URL": "", "CPB_CHUNK_SIZE": "4"}
STUDENTS = "600"

pytestmark = pytest.mark.faults
CHANGES = {"email": {"emergency": "on", "general": "off"}, "cellPhone": {"attendance": "on"}}


@contextlib.contextmanager
def cpb_run(instance: Path) -> Iterator[str]:
    port = free_port()
    command = [*CPB, "run", "--port", str(port), "--demo-students", STUDENTS]
    env = ENV | {"CPB_INSTANCE_PATH": str(instance)}
    with background_process("cpb run", command, env, ready=r"running at http://") as process:
        yield f"http://127.0.0.1:{port}"
        kill_hard(process)  # a crash: no warm shutdown


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def call(self, path: str, body: dict[str, Any] | None = None) -> bytes:
        request = urllib.request.Request(
            self.base + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: bytes = response.read()
            return answer

    def json(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = json.loads(self.call(path, body))
        return answer

    def submit(self, school_year: str) -> int:
        body = {"mode": "studentContact", "scope": {"schoolYear": school_year}, "changes": CHANGES}
        batch_id: int = self.json("/api/v1/batches", body)["id"]
        return batch_id

    def final(self, batch_id: int) -> dict[str, Any]:
        def finished() -> dict[str, Any] | None:
            view = self.json(f"/api/v1/batches/{batch_id}")
            return view if view["status"] in ("succeeded", "failed", "cancelled") else None

        return wait_until(finished, timeout=120, interval=0.2, message=f"batch {batch_id}")

    def outcome(self, batch_id: int) -> tuple[dict[str, Any], bytes, bytes]:
        times = ("submittedAt", "startedAt", "finishedAt")
        view = {k: v for k, v in self.final(batch_id).items() if k not in times}
        changes = self.call(f"/api/v1/batches/{batch_id}/changes.csv")
        return view, changes, self.call("/api/v1/preferences.csv")


def token_for(instance: Path) -> str:
    created = subprocess.run(
        [*CPB, "tokens", "create", "admin"],
        cwd=REPO_ROOT,
        env={**os.environ, **ENV, "CPB_INSTANCE_PATH": str(instance)},
        capture_output=True,
        text=True,
        check=True,
    )
    return created.stdout.strip().splitlines()[-1]


def newest_year(instance: Path) -> str:
    with contextlib.closing(sqlite3.connect(instance / "cpb.sqlite3")) as connection:
        return str(connection.execute("SELECT max(school_year) FROM calendars").fetchone()[0])


def first_commit_after(instance: Path, batch_id: int, moment: datetime) -> datetime:
    """When the first chunk of the batch committed after `moment` (times are kept in UTC)."""
    with contextlib.closing(sqlite3.connect(instance / "cpb.sqlite3")) as connection:
        done = connection.execute(
            "SELECT done_at FROM batch_chunks WHERE batch_id = ? AND done_at IS NOT NULL",
            [batch_id],
        ).fetchall()
    moments = [datetime.fromisoformat(at).replace(tzinfo=UTC) for (at,) in done]
    return min(at for at in moments if at > moment)


def test_cpb_run_killed_mid_batch_finishes_it_exactly_once_when_started_again(
    tmp_path: Path, record_property: Any
):
    crashed, clean = tmp_path / "crashed", tmp_path / "clean"
    with cpb_run(crashed):
        pass  # the first start loads the demo district
    token, year = token_for(crashed), newest_year(crashed)
    shutil.copytree(crashed, clean)

    with cpb_run(clean) as base:
        api = Api(base, token)
        expected = api.outcome(api.submit(year))
    chunks = expected[0]["progress"]["total"]
    assert chunks > 100

    with cpb_run(crashed) as base:
        api = Api(base, token)
        batch_id = api.submit(year)

        def under_way() -> int:
            done: int = api.json(f"/api/v1/batches/{batch_id}")["progress"]["done"]
            return done if 5 <= done < chunks - 20 else 0

        done_before = wait_until(under_way, timeout=60, interval=0.02, message="chunks to run")
    # The block's end killed it (SIGKILL): nothing stopped warmly.
    clock, killed_at = time.monotonic(), datetime.now(UTC)
    with cpb_run(crashed) as base:
        outcome = Api(base, token).outcome(batch_id)
    record_property("recovery_seconds", round(time.monotonic() - clock, 1))
    moved = first_commit_after(crashed, batch_id, killed_at)
    record_property("moved_seconds", round((moved - killed_at).total_seconds(), 1))
    assert 5 <= done_before < chunks - 20
    assert outcome == expected
