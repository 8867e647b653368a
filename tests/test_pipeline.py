"""The whole pipeline on the real stack: `cpb import csv`, `cpb users`/`cpb tokens`, the API,
Redis, and a real `celery worker` process with two pool processes, on PostgreSQL. Chunks of one
target, so four chunks run on two processes."""

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from shared import pipeline
from shared.batch_service import get_batch, submit_batch
from shared.batch_view import batch_view
from shared.settings import Settings
from tests.support.processes import REPO_ROOT, celery_beat, celery_worker, wait_until
from tests.support.results import result_table
from web import create_app

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


def cpb(env: dict[str, str], *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-c", "from web.cli import main; main()", *args],
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


@pytest.fixture
def env(pg_session_factory, pg_url, redis_url, tmp_path) -> dict[str, str]:
    """The bundle imported and a user made, through the command line, on PostgreSQL."""
    env = {
        **os.environ,
        "DATABASE_URL": pg_url,
        "CELERY_BROKER_URL": redis_url,
        "CPB_INSTANCE_PATH": str(tmp_path / "instance"),
        "CPB_CHUNK_SIZE": "1",
        "SECRET_KEY": "pipeline-test",
    }
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


@pytest.fixture
def stack(env, pg_session_factory):
    token = cpb(env, "tokens", "create", "ada").strip().splitlines()[-1]
    app = create_app(Settings.from_env(env), session_factory=pg_session_factory)
    with celery_worker(env, concurrency=2):
        yield app.test_client(), {"Authorization": f"Bearer {token}"}


def run(client, headers, body):
    submitted = client.post("/api/v1/batches", json=body, headers=headers)
    assert submitted.status_code == 202, submitted.get_json()
    url = f"/api/v1/batches/{submitted.get_json()['id']}"

    def finished():
        view = client.get(url, headers=headers).get_json()
        return view if view["status"] in ("succeeded", "failed") else None

    return wait_until(finished, timeout=60, interval=0.2, message="batch to finish")


def test_a_batch_through_the_api_and_a_real_worker(stack):
    client, headers = stack
    body = {
        "mode": "studentContact",
        "scope": {"schoolYear": "2025-26", "schoolId": "S1"},
        "asOf": "2025-10-15",
        "changes": CHANGES,
    }
    first = run(client, headers, body)
    assert (first["status"], first["result"]["targets"], first["result"]["errors"]) == (
        "succeeded",
        4,
        [],
    )
    assert first["progress"] == {"done": 4, "total": 4}
    assert first["result"]["counts"] == FIRST_COUNTS
    second = run(client, headers, body)
    assert second["result"]["counts"] == AGAIN_COUNTS

    exported = client.get("/api/v1/preferences.csv", headers=headers)
    assert exported.status_code == 200
    assert list(csv.reader(io.StringIO(exported.get_data(as_text=True)))) == [
        [
            "subjectType",
            "subjectId",
            "channel",
            "address",
            "emergency",
            "attendance",
            "behavior",
            "staff",
            "general",
            "foodService",
            "priority",
            "teacher",
            "guardianSet",
        ],
        [
            "household",
            "H1",
            "householdPhone",
            "5559001",
            "1",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "0",
            "",
        ],
        [
            "household",
            "H2",
            "householdPhone",
            "5559002",
            "1",
            "0",
            "0",
            "1",
            "0",
            "0",
            "0",
            "0",
            "",
        ],
        ["person", "G1", "cellPhone", "5550001", "1", "0", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G1", "email", "g1@example.org", "1", "1", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G2", "email", "g2@example.org", "1", "1", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G3", "cellPhone", "5550003", "0", "0", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G4", "cellPhone", "5550004", "0", "0", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G4", "email", "g4@example.org", "0", "0", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G5", "homePhone", "5550005", "0", "0", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G6", "email", "g6@example.org", "1", "1", "0", "0", "0", "0", "0", "0", ""],
        ["person", "G7", "email", "g7@example.org", "0", "0", "0", "0", "0", "0", "0", "0", ""],
        ["person", "T1", "email", "t1@example.org", "0", "0", "0", "0", "0", "0", "0", "0", ""],
    ]
    g2 = client.get("/api/v1/people/G2/preferences", headers=headers).get_json()
    setters = g2["channels"]["email"]["setters"]
    assert (setters["emergency"], setters["attendance"], setters["behavior"]) == (
        f"batch:{first['id']}",
        f"batch:{first['id']}",
        "default",
    )


def test_beat_sweeps_up_a_lost_plan_and_lost_chunks(env, pg_session_factory):
    """Two batches whose messages never reached the broker: the first was planned but its chunk
    messages were lost, the second's plan message was lost. A real beat runs the sweeper every
    second, which sends them again once their one-second lease has passed."""
    body = {
        "mode": "studentContact",
        "scope": {"calendarId": "C1"},
        "asOf": "2025-10-15",
        "changes": CHANGES,
    }
    with pg_session_factory.begin() as session:
        first, _ = submit_batch(session, body, user=None, today=date(2025, 10, 15))
        second, _ = submit_batch(session, body, user=None, today=date(2025, 10, 15))
    with pg_session_factory.begin() as session:
        lost = pipeline.plan(session, first.id, 1, datetime.now(UTC))
    assert len(lost) == 4  # four chunk messages, never sent
    swept = env | {"CPB_SWEEP_SECONDS": "1", "CPB_CHUNK_LEASE_SECONDS": "1"}

    def finished():
        with pg_session_factory.begin() as session:
            views = [batch_view(session, get_batch(session, b.id)) for b in (first, second)]
        return views if all(v["status"] == "succeeded" for v in views) else None

    with celery_worker(swept, concurrency=2), celery_beat(swept):
        views = wait_until(finished, timeout=60, interval=0.5, message="both batches to finish")
    assert views[0]["result"]["counts"] == FIRST_COUNTS
    assert views[1]["result"]["counts"] == AGAIN_COUNTS
