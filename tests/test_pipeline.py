"""The whole pipeline on the real stack: `cpb import csv`, `cpb users`/`cpb tokens`, the API,
Redis, and a real `celery worker` process with two pool processes, on PostgreSQL. Chunks of one
target, so four chunks run on two processes."""

import csv
import io
from datetime import UTC, datetime

from shared.batches.pipeline import steps as pipeline
from tests.support.driver import submit, view_of
from tests.support.processes import celery_beat, celery_worker, wait_until
from tests.support.stack import (
    AGAIN_COUNTS,
    CHANGES,
    FIRST_COUNTS,
    progress_of,
    run,
)


def test_a_batch_through_the_api_and_a_real_worker(stack_api):
    client, headers = stack_api
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
    assert first["progress"] == progress_of(4, 4)
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


def test_beat_sweeps_up_a_lost_plan_and_lost_chunks(stack_env, pg_session_factory):
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
        first = submit(session, body).batch
        second = submit(session, body).batch
    with pg_session_factory.begin() as session:
        lost = pipeline.plan(session, first.id, 1, datetime.now(UTC))
    assert len(lost) == 4  # four chunk messages, never sent
    swept = stack_env | {"CPB_SWEEP_SECONDS": "1", "CPB_CHUNK_LEASE_SECONDS": "1"}

    def finished():
        views = [view_of(pg_session_factory, b.id) for b in (first, second)]
        return views if all(v["status"] == "succeeded" for v in views) else None

    with celery_worker(swept, concurrency=2), celery_beat(swept):
        views = wait_until(finished, timeout=60, interval=0.5, message="both batches to finish")
    assert views[0]["result"]["counts"] == FIRST_COUNTS
    assert views[1]["result"]["counts"] == AGAIN_COUNTS
