"""The whole pipeline on the real stack: `cpb import csv`, `cpb users`/`cpb tokens`, the API,
Redis, and a real `celery worker` process with two pool processes, on PostgreSQL. Chunks of one
target, so four chunks run on two processes."""

import csv
import io

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
