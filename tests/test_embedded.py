"""`cpb run` on the embedded default, as the README's quick start runs it: SQLite in the instance
folder, the worker and beat in the same process, a demo district and a login on first start.
Driven through the API, and through the pages in a real browser."""

import contextlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.support.browser import browser_page, sign_in
from tests.support.metrics import sample, samples
from tests.support.processes import REPO_ROOT, background_process, wait_until

CPB = [sys.executable, "-c", "from cli.main import main; main()"]


@dataclass(frozen=True)
class Running:
    base: str
    instance: Path
    env: dict[str, str]

    @property
    def password(self) -> str:
        return (self.instance / "demo-login.txt").read_text().strip()

    def newest_year(self) -> str:
        database = self.instance / "cpb.sqlite3"
        with contextlib.closing(sqlite3.connect(database)) as connection:
            return str(connection.execute("SELECT max(school_year) FROM calendars").fetchone()[0])

    def set_back(self, schedule_id: int, hours: int) -> None:
        """As if the schedule had been made `hours` ago, with nothing running since."""
        database = self.instance / "cpb.sqlite3"
        with contextlib.closing(sqlite3.connect(database)) as connection, connection:
            (due_after,) = connection.execute(
                "SELECT due_after FROM schedules WHERE id = ?", [schedule_id]
            ).fetchone()
            earlier = datetime.fromisoformat(due_after) - timedelta(hours=hours)
            connection.execute(
                "UPDATE schedules SET due_after = ? WHERE id = ?",
                [earlier.isoformat(sep=" "), schedule_id],
            )

    def token(self) -> str:
        created = subprocess.run(
            [*CPB, "tokens", "create", "admin"],
            cwd=REPO_ROOT,
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            check=True,
        )
        return created.stdout.strip().splitlines()[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def cpb_run(tmp_path: Path) -> Iterator[Running]:
    instance = tmp_path / "instance"
    env = {
        "CPB_INSTANCE_PATH": str(instance),
        "DATABASE_URL": "",
        "CELERY_BROKER_URL": "",
        "CPB_SCHEDULE_TICK_SECONDS": "2",
    }
    port = free_port()
    command = [*CPB, "run", "--port", str(port), "--demo-students", "80"]
    with background_process("cpb run", command, env, ready=r"running at http://"):
        yield Running(f"http://127.0.0.1:{port}", instance, env)


def api(base: str, token: str, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def test_cpb_run_serves_a_demo_district_and_runs_batches(cpb_run: Running):
    assert (cpb_run.instance / "cpb.sqlite3").is_file()
    assert len(cpb_run.password) >= 12
    token = cpb_run.token()
    # Its own worker counts (a ping cannot reach it), and its beat records its tick.
    health = wait_until(lambda: settled_health(cpb_run.base, token), timeout=30, message="health")
    assert health == {"database": "ok", "broker": "ok", "workers": 1, "queueDepth": 0}
    body = {
        "mode": "studentContact",
        "scope": {"schoolYear": cpb_run.newest_year()},
        "changes": {"email": {"emergency": "on"}, "householdPhone": {"attendance": "off"}},
    }

    def run(request: dict) -> dict:
        batch = api(cpb_run.base, token, "/api/v1/batches", request)

        def finished() -> dict | None:
            view = api(cpb_run.base, token, f"/api/v1/batches/{batch['id']}")
            return view if view["status"] in ("succeeded", "failed") else None

        return wait_until(finished, timeout=60, message="batch to finish")

    preview = run(body | {"dryRun": True})
    applied = run(body)
    again = run(body)
    # Beat and the worker of `cpb run` run schedules too. An hourly schedule, set back as if it
    # had been made two hours ago while nothing ran: the next tick catches up its latest run.
    hourly = {"name": "hourly", "template": body, "rule": {"cron": "0 * * * *"}}
    schedule = api(cpb_run.base, token, "/api/v1/schedules", hourly)
    cpb_run.set_back(schedule["id"], hours=2)

    def scheduled_batch() -> dict | None:
        runs = api(cpb_run.base, token, f"/api/v1/schedules/{schedule['id']}/runs")
        if not runs:
            return None
        # The hour before runs, the one before that is skipped (and, made just before an hour,
        # the hour itself may have run on time, the two before it skipped).
        statuses = [run["status"] for run in runs]
        assert statuses[0] == "ran" and set(statuses[1:]) == {"skipped"}, statuses
        view = api(cpb_run.base, token, f"/api/v1/batches/{runs[0]['batchId']}")
        return view if view["status"] in ("succeeded", "failed") else None

    scheduled = wait_until(scheduled_batch, timeout=60, interval=0.5, message="a scheduled run")
    assert (scheduled["status"], scheduled["submittedBy"]) == ("succeeded", "admin")
    assert scheduled["result"]["counts"]["email"]["emergency"] == 0
    assert applied["status"] == "succeeded"
    assert applied["result"]["targets"] > 0
    assert applied["result"]["counts"] == preview["result"]["counts"]
    assert applied["result"]["counts"]["email"]["emergency"] > 0
    assert again["result"]["counts"]["email"]["emergency"] == 0
    assert again["result"]["counts"]["householdPhone"]["attendance"] == 0
    # /metrics from the process's own registry: the web's requests, its worker's figures (no
    # port of its own), and the figures of the database.
    found = samples(text_of(cpb_run.base, token, "/metrics"))
    posted = {"method": "POST", "route": "/api/v1/batches", "status": "202"}
    assert sample(found, "cpb_http_request_duration_seconds_count", **posted) == 3
    assert sample(found, "cpb_plan_duration_seconds_count") == 4  # and the scheduled batch
    succeeded = {"kind": "batch", "mode": "studentContact", "status": "succeeded"}
    assert sample(found, "cpb_batches", **succeeded) == 4  # preview, applied, again, scheduled


def settled_health(base: str, token: str) -> dict | None:
    """The health report, without beat's tick, once beat has ticked and the queue is empty."""
    body = api(base, token, "/api/v1/health")
    return body if body.pop("beatLastTick") and body["queueDepth"] == 0 else None


def text_of(base: str, token: str, path: str) -> str:
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.read().decode()


@pytest.mark.browser
def test_the_wizard_runs_a_batch_to_its_result_in_a_browser(cpb_run: Running, tmp_path: Path):
    with browser_page(cpb_run.base, timeout_ms=30_000) as page:
        page.goto("/")
        sign_in(page, "admin", cpb_run.password)
        page.wait_for_url("**/batches/new")
        page.get_by_label("Student Messenger Contacts").check()
        page.get_by_label("School year").select_option(cpb_run.newest_year())
        page.get_by_label("Email: Emergency", exact=True).select_option(label="On")
        page.get_by_label("Cell Phone: Attendance", exact=True).select_option(label="On")
        page.get_by_role("button", name="Apply Changes").click()
        page.wait_for_url("**/batches/*")
        # The page polls until the worker has finished, then shows the result.
        page.locator("#result").wait_for()
        page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)
        batch_id = int(page.url.rsplit("/", 1)[1])
        view = api(cpb_run.base, cpb_run.token(), f"/api/v1/batches/{batch_id}")
        assert (page.locator("#batch-status").inner_text(), view["status"]) == (
            "Finished",
            "succeeded",
        )
        result = page.locator("#result")
        assert result.get_by_text("Mode: studentContact").is_visible()
        assert result.get_by_text("Errors: No Errors").is_visible()
        rows = page.locator("#counts tbody tr")
        email = rows.filter(has=page.get_by_role("rowheader", name="Email", exact=True))
        cells = email.locator("td").all_inner_texts()
        counts = view["result"]["counts"]["email"]
        assert cells == [str(counts["emergency"])] + ["No Change"] * 7
        assert counts["emergency"] > 0
