"""`cpb run` on the embedded default, as the README's quick start runs it: SQLite in the instance
folder, the worker and beat in the same process, a demo district and a login on first start."""

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.support.processes import REPO_ROOT, background_process, wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def api(base: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_cpb_run_serves_a_demo_district_and_runs_batches(tmp_path: Path):
    instance = tmp_path / "instance"
    env = {"CPB_INSTANCE_PATH": str(instance), "DATABASE_URL": "", "CELERY_BROKER_URL": ""}
    port = free_port()
    command = [sys.executable, "-c", "from web.cli import main; main()", "run"]
    command += ["--port", str(port), "--demo-students", "80"]
    with background_process("cpb run", command, env, ready=r"running at http://"):
        base = f"http://127.0.0.1:{port}"
        assert (instance / "cpb.sqlite3").is_file()
        password = (instance / "demo-login.txt").read_text().strip()
        assert len(password) >= 12
        with urllib.request.urlopen(base + "/login", timeout=10) as page:
            assert page.status == 200
        token = (
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "from web.cli import main; main()",
                    "tokens",
                    "create",
                    "admin",
                ],
                cwd=REPO_ROOT,
                env={**os.environ, **env},
                capture_output=True,
                text=True,
                check=True,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        health = api(base, token, "/api/v1/health")
        assert health == {"database": "ok", "broker": "ok"}

        body = {
            "mode": "studentContact",
            "scope": {"schoolYear": _newest_year(instance / "cpb.sqlite3")},
            "changes": {"email": {"emergency": "on"}, "householdPhone": {"attendance": "off"}},
        }

        def run(request: dict) -> dict:
            batch = api(base, token, "/api/v1/batches", request)
            return wait_until(
                lambda: (
                    (view := api(base, token, f"/api/v1/batches/{batch['id']}"))["status"]
                    in ("succeeded", "failed")
                    and view
                ),
                timeout=60,
                message="batch to finish",
            )

        preview = run(body | {"dryRun": True})
        applied = run(body)
        again = run(body)
    assert applied["status"] == "succeeded"
    assert applied["result"]["targets"] > 0
    assert applied["result"]["counts"] == preview["result"]["counts"]
    assert applied["result"]["counts"]["email"]["emergency"] > 0
    assert again["result"]["counts"]["email"]["emergency"] == 0
    assert again["result"]["counts"]["householdPhone"]["attendance"] == 0


def _newest_year(database: Path) -> str:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return str(connection.execute("SELECT max(school_year) FROM calendars").fetchone()[0])
