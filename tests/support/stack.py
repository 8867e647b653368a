"""The real stack for the tests that need it: a district imported with `cpb import csv`, a
user and a token made with `cpb users` and `cpb tokens`, PostgreSQL, Redis, real `celery
worker` processes, and the app answering the API. The district's counts are worked out by hand
below, so every test on this stack can assert exact figures."""

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import Engine

from shared.core.db import SessionFactory
from shared.core.settings import Settings
from shared.models import Base
from tests.support.processes import REPO_ROOT, celery_worker, wait_until
from tests.support.results import result_table
from web import create_app

FINAL = ("succeeded", "failed", "cancelled")
Headers = dict[str, str]

BUNDLE = {
    "schools.csv": "schoolId,name\nS1,One School\n",
    "calendars.csv": "calendarId,schoolId,name,schoolYear,startDate,endDate\n"
    "C1,S1,2025-26 One,2025-26,2025-08-19,2026-06-04\n",
    "people.csv": "personId,firstName,lastName,studentNumber,staffNumber,homePhone,workPhone,"
    "cellPhone,email,secondaryEmail\n"
    "T1,Tia,One,001,,,,,t1@example.org,\n"
    "T2,Tom,One,002,,,,,,\n"
    "T3,Ted,One,003,,,,,,\n"
    "T4,Tess,Two,004,,,,,,\n"
    "T5,Tim,Old,005,,,,,,\n"
    "G1,Gail,One,,,,,5550001,g1@example.org,\n"
    "G2,Gus,Two,,,,,,g2@example.org,\n"
    "G3,Gina,Gone,,,,,5550003,,\n"
    "G4,Gary,Quiet,,,,,5550004,g4@example.org,\n"
    "G5,Gwen,Home,,,5550005,,,,\n"
    "G6,Greg,Staff,,E6,,,,g6@example.org,\n"
    "G7,Gia,Old,,,,,,g7@example.org,\n",
    "households.csv": "householdId,name,phone\nH1,One,5559001\nH2,Two,5559002\nH3,Three,\n",
    "householdMembers.csv": "householdId,personId,startDate,endDate\n"
    "H1,G1,,\nH1,T1,,\nH2,G2,,\nH2,G6,,\nH3,G5,,\n",
    "enrollments.csv": "personId,calendarId,grade,startDate,endDate\n"
    "T1,C1,01,,\nT2,C1,02,,\nT3,C1,03,,\nT4,C1,04,,\nT5,C1,05,,2025-09-30\n",
    "relationships.csv": "studentId,contactId,name,guardian,messenger,startDate,endDate\n"
    "T1,G1,Mother,true,true,,\nT2,G1,Mother,true,true,,\nT3,G1,Mother,true,true,,\n"
    "T4,G2,Father,true,true,,\nT1,G3,Aunt,false,true,,2025-10-01\n"
    "T2,G4,Father,true,false,,\nT3,G5,Grandmother,true,true,,\n"
    "T4,G6,Mother,true,true,,\nT5,G7,Mother,true,true,,\n",
    "districtAssignments.csv": "personId,schoolId,title,startDate,endDate\nG6,S1,Teacher,,\n",
    "preferences.csv": "subjectType,subjectId,channel,address,emergency,attendance,behavior,"
    "staff,general,foodService,priority,teacher,guardianSet\n"
    "person,G1,email,g1@example.org,1,0,0,0,0,0,0,0,\n"
    "person,G2,email,g2@example.org,0,0,0,0,0,0,0,0,attendance\n",
}

CHANGES = {
    "householdPhone": {"emergency": "on", "staff": "on"},
    "homePhone": {"emergency": "off"},
    "cellPhone": {"emergency": "on"},
    "email": {"emergency": "on", "attendance": "on"},
}

# Targets: G1 (parent of three, once), G2, G5, G6. Not G3 (ended 2025-10-01), G4 (not a messenger
# contact), G7 (T5's enrollment ended). email emergency: G2, G6 (G1 is on already); attendance:
# G1, G2 (a guardian's, overwritten), G6; cell emergency: G1; home emergency off: G5 is off
# already; household emergency: H1 (G1), H2 (G2 and G6, once); household staff: H2 through G6,
# staff; H1's G1 is not staff.
FIRST = {
    "householdPhone__emergency": 2,
    "householdPhone__staff": 1,
    "homePhone__emergency": 0,
    "cellPhone__emergency": 1,
    "email__emergency": 2,
    "email__attendance": 3,
}
FIRST_COUNTS = result_table(**FIRST)
AGAIN_COUNTS = result_table(**dict.fromkeys(FIRST, 0))  # the same batch again changes nothing


def progress_of(done: int, total: int) -> dict[str, Any]:
    """A batch's progress here, where each chunk holds one target: chunks and people alike."""
    return {"done": done, "total": total, "people": {"done": done, "total": total}}


def empty_tables(engine: Engine) -> None:
    """Every table of the product emptied, and every id sequence back at 1. DELETE, dependents
    first, rather than TRUNCATE: a test's tables hold a few rows, and TRUNCATE makes each
    table's files anew (about 100 ms for all of them against 2 ms)."""
    quote = engine.dialect.identifier_preparer.format_table
    tables = Base.metadata.sorted_tables
    serial = [
        (quote(t), t.autoincrement_column.name)
        for t in tables
        if t.autoincrement_column is not None
    ]
    counters = [
        f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), 1, false)"
        for table, column in serial
    ]
    with engine.begin() as connection:
        connection.exec_driver_sql("; ".join(f"DELETE FROM {quote(t)}" for t in reversed(tables)))
        connection.exec_driver_sql(" UNION ALL ".join(counters))


def cpb(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from cli.main import main; main()", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def service_env(pg_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The environment of the product's processes on PostgreSQL and Redis, nothing imported."""
    return {
        **os.environ,
        "DATABASE_URL": pg_url,
        "CELERY_BROKER_URL": redis_url,
        "CPB_INSTANCE_PATH": str(tmp_path / "instance"),
        "SECRET_KEY": "pipeline-test",
    }


def stack_env(pg_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    """The bundle imported and the user `ada` made, through the command line, on PostgreSQL;
    chunks of one target."""
    env = service_env(pg_url, redis_url, tmp_path) | {"CPB_CHUNK_SIZE": "1"}
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name, text in BUNDLE.items():
        (bundle / name).write_text(text)
    cpb(env, "import", "csv", str(bundle))
    cpb(
        env,
        "users",
        "create",
        "ada",
        "--role",
        "district_admin",
        "--password-stdin",
        stdin="correct horse battery\n",
    )
    return env


@contextmanager
def api_stack(
    env: dict[str, str], session_factory: SessionFactory, concurrency: int = 2
) -> Iterator[tuple[FlaskClient, Headers]]:
    """A test client of the app (sending to Redis) and ada's bearer header, while a real worker
    runs."""
    token = cpb(env, "tokens", "create", "ada").strip().splitlines()[-1]
    app = create_app(Settings.from_env(env), session_factory=session_factory)
    with celery_worker(env, concurrency=concurrency):
        yield app.test_client(), {"Authorization": f"Bearer {token}"}


def submit(client: FlaskClient, headers: Headers, body: dict[str, Any]) -> int:
    submitted = client.post("/api/v1/batches", json=body, headers=headers)
    assert submitted.status_code == 202, submitted.get_json()
    batch_id: int = submitted.get_json()["id"]
    return batch_id


def finished(client: FlaskClient, headers: Headers, batch_id: int) -> dict[str, Any]:
    """The batch once it has finished, polled through the API."""
    url = f"/api/v1/batches/{batch_id}"

    def final() -> dict[str, Any]:
        view: dict[str, Any] = client.get(url, headers=headers).get_json()
        return view if view["status"] in FINAL else {}

    return wait_until(final, timeout=60, interval=0.2, message=f"batch {batch_id} to finish")


def run(client: FlaskClient, headers: Headers, body: dict[str, Any]) -> dict[str, Any]:
    return finished(client, headers, submit(client, headers, body))
