"""Preview, apply, undo, cancel, guardians' own choices, idempotent submits and the audit trail,
through the API with a real `celery worker` on Redis and PostgreSQL (tests/support/stack.py:
the district, and its counts worked out by hand). Chunks of one target: G1, G2, G5, G6 in that
order."""

import threading
from typing import Any

import pytest
from sqlalchemy import text

from shared.core.db import SessionFactory
from tests.support.processes import wait_until
from tests.support.results import result_table
from tests.support.stack import (
    AGAIN_COUNTS,
    CHANGES,
    FIRST,
    FIRST_COUNTS,
    Headers,
    api_stack,
    finished,
    run,
    submit,
)

BODY = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26", "schoolId": "S1"},
    "asOf": "2025-10-15",
    "changes": CHANGES,
}
# What the first batch changes, row by row: households H1 and H2 (H2's staff through G6),
# G1's cell and email attendance, G2's and G6's email emergency and attendance.
FIRST_CHANGES_CSV = (
    "subjectType,subjectId,channel,reason,before,after,setterBefore\r\n"
    "household,H1,householdPhone,emergency,0,1,default\r\n"
    "household,H2,householdPhone,emergency,0,1,default\r\n"
    "household,H2,householdPhone,staff,0,1,default\r\n"
    "person,G1,cellPhone,emergency,0,1,default\r\n"
    "person,G1,email,attendance,0,1,default\r\n"
    "person,G2,email,emergency,0,1,default\r\n"
    "person,G2,email,attendance,0,1,guardian\r\n"
    "person,G6,email,emergency,0,1,default\r\n"
    "person,G6,email,attendance,0,1,default\r\n"
)


def export(client: Any, headers: Headers) -> str:
    response = client.get("/api/v1/preferences.csv", headers=headers)
    assert response.status_code == 200
    text_: str = response.get_data(as_text=True)
    return text_


def error(response: Any) -> tuple[int, dict[str, Any]]:
    return response.status_code, response.get_json()["error"]


def test_preview_then_apply_then_undo_restores_everything(stack_api):
    client, headers = stack_api
    before = export(client, headers)

    preview = run(client, headers, BODY | {"dryRun": True})
    assert (preview["status"], preview["result"]["targets"]) == ("succeeded", 4)
    assert preview["result"]["counts"] == FIRST_COUNTS
    assert preview["result"]["sample"] == [
        sample("household", "H1", "One", "householdPhone", emergency="on"),
        sample("household", "H2", "Two", "householdPhone", emergency="on", staff="on"),
        sample("person", "G1", "Gail One", "cellPhone", emergency="on"),
        sample("person", "G1", "Gail One", "email", attendance="on"),
        sample("person", "G2", "Gus Two", "email", emergency="on", attendance="on"),
        sample("person", "G6", "Greg Staff", "email", emergency="on", attendance="on"),
    ]
    assert export(client, headers) == before  # a preview changes nothing

    applied = client.post(f"/api/v1/batches/{preview['id']}/apply", headers=headers)
    assert applied.status_code == 202
    batch = finished(client, headers, applied.get_json()["id"])
    assert (batch["dryRun"], batch["result"]["counts"]) == (False, FIRST_COUNTS)
    again = client.post(f"/api/v1/batches/{preview['id']}/apply", headers=headers)
    assert (again.status_code, again.get_json()["id"]) == (202, batch["id"])  # applied once
    assert (
        client.get(f"/api/v1/batches/{preview['id']}", headers=headers).get_json()["appliedAs"]
        == batch["id"]
    )

    changes = client.get(f"/api/v1/batches/{batch['id']}/changes.csv", headers=headers)
    assert changes.get_data(as_text=True) == FIRST_CHANGES_CSV
    assert len(FIRST_CHANGES_CSV.splitlines()) - 1 == sum(FIRST.values())
    assert export(client, headers) != before

    accepted = client.post(f"/api/v1/batches/{batch['id']}/undo", headers=headers)
    assert accepted.status_code == 202
    undo = finished(client, headers, accepted.get_json()["id"])
    assert (undo["kind"], undo["status"], undo["undoOf"]) == ("undo", "succeeded", batch["id"])
    assert undo["result"]["counts"] == FIRST_COUNTS
    assert undo["result"]["conflicts"] == AGAIN_COUNTS
    assert export(client, headers) == before  # byte for byte
    g2 = client.get("/api/v1/people/G2/preferences", headers=headers).get_json()
    assert g2["channels"]["email"]["setters"]["attendance"] == "guardian"  # the setter too
    undone = client.get(f"/api/v1/batches/{batch['id']}", headers=headers).get_json()
    assert undone["undoneBy"] == undo["id"]

    assert error(client.post(f"/api/v1/batches/{batch['id']}/undo", headers=headers)) == (
        409,
        conflict(f"batch {batch['id']} was undone already, by batch {undo['id']}"),
    )
    assert error(client.post(f"/api/v1/batches/{undo['id']}/undo", headers=headers)) == (
        409,
        conflict(
            f"batch {undo['id']} is an undo, which cannot be undone; "
            f"submit batch {batch['id']} again instead"
        ),
    )
    assert error(client.post(f"/api/v1/batches/{preview['id']}/undo", headers=headers)) == (
        409,
        conflict(f"batch {preview['id']} is a preview; it changed nothing to undo"),
    )
    assert error(client.post(f"/api/v1/batches/{batch['id']}/apply", headers=headers)) == (
        409,
        conflict(f"batch {batch['id']} is not a preview"),
    )
    assert error(client.post(f"/api/v1/batches/{batch['id']}/cancel", headers=headers)) == (
        409,
        conflict(f"batch {batch['id']} has finished (succeeded); there is nothing to stop"),
    )
    assert error(client.post("/api/v1/batches/999/undo", headers=headers)) == (
        404,
        {"code": "not_found", "message": "no batch 999", "field": None},
    )


def test_kept_guardian_values_and_values_changed_since_survive_the_undo(stack_api):
    client, headers = stack_api
    kept = run(client, headers, BODY | {"keepGuardianChoices": True})
    # G2's email attendance was set by a guardian: left, and counted as kept
    assert kept["result"]["counts"] == result_table(**(FIRST | {"email__attendance": 2}))
    assert kept["result"]["kept"] == result_table(
        **(dict.fromkeys(FIRST, 0) | {"email__attendance": 1})
    )
    # a guardian turns G6's email emergency off in the parent portal after the batch
    edited = client.patch(
        "/api/v1/people/G6/preferences",
        json={"setBy": "guardian", "changes": {"email": {"emergency": "off"}}},
        headers=headers,
    )
    assert edited.status_code == 200

    accepted = client.post(f"/api/v1/batches/{kept['id']}/undo", headers=headers)
    undo = finished(client, headers, accepted.get_json()["id"])
    assert undo["result"]["counts"] == result_table(
        **(FIRST | {"email__attendance": 2, "email__emergency": 1})
    )
    assert undo["result"]["conflicts"] == result_table(
        **(dict.fromkeys(FIRST, 0) | {"email__emergency": 1})
    )
    g6 = client.get("/api/v1/people/G6/preferences", headers=headers).get_json()
    email = g6["channels"]["email"]
    assert (email["values"]["emergency"], email["setters"]["emergency"]) == (False, "guardian")
    assert (email["values"]["attendance"], email["setters"]["attendance"]) == (False, "default")


@pytest.mark.faults
def test_cancel_stops_between_chunks_and_the_applied_part_is_undone(
    stack_env, pg_session_factory: SessionFactory
):
    """One pool process. A lock held here on G1's email row holds the first chunk half way;
    the cancel waits for that chunk, which then finishes, and the three others never run."""
    with api_stack(stack_env, pg_session_factory, concurrency=1) as (client, headers):
        before = export(client, headers)
        with pg_session_factory() as blocker:
            blocker.execute(
                text(
                    "SELECT 1 FROM preferences p JOIN people a ON a.id = p.subject_id "
                    "WHERE a.ext_id = 'G1' AND p.channel = 4 FOR UPDATE OF p"
                )
            )
            batch_id = submit(client, headers, BODY)
            wait_until(lambda: waiting_on_locks(pg_session_factory) == 1, timeout=30)
            cancelled: dict[str, Any] = {}
            cancelling = threading.Thread(
                target=lambda: cancelled.update(
                    response=client.post(f"/api/v1/batches/{batch_id}/cancel", headers=headers)
                )
            )
            cancelling.start()
            wait_until(lambda: waiting_on_locks(pg_session_factory) == 2, timeout=30)
            blocker.rollback()  # the first chunk goes on; then the cancel
        cancelling.join(timeout=30)
        response = cancelled["response"]
        assert response.status_code == 200
        view = response.get_json()
        assert (view["status"], view["progress"]) == (
            "cancelled",
            {"done": 1, "total": 4, "people": {"done": 1, "total": 4}},
        )
        # G1's chunk only: H1's emergency (G1 is not staff), G1's cell, G1's email attendance
        g1_only = result_table(
            householdPhone__emergency=1,
            householdPhone__staff=0,
            homePhone__emergency=0,
            cellPhone__emergency=1,
            email__emergency=0,
            email__attendance=1,
        )
        assert view["result"]["counts"] == g1_only

        accepted = client.post(f"/api/v1/batches/{batch_id}/undo", headers=headers)
        undo = finished(client, headers, accepted.get_json()["id"])
        assert undo["progress"] == {"done": 1, "total": 1, "people": {"done": 1, "total": 1}}
        assert undo["result"]["counts"] == g1_only
        assert export(client, headers) == before
        # the chunks skipped by the cancel never ran, before or after the undo
        final = client.get(f"/api/v1/batches/{batch_id}", headers=headers).get_json()
        assert (final["status"], final["progress"]) == (
            "cancelled",
            {"done": 1, "total": 4, "people": {"done": 1, "total": 4}},
        )
        audit = client.get("/api/v1/audit?action=batch.cancel", headers=headers).get_json()
        assert [(i["username"], i["subject"]) for i in audit["items"]] == [
            ("ada", f"batch:{batch_id}")
        ]


def test_idempotent_submit_and_the_audit_trail(stack_api):
    client, headers = stack_api
    key = {"Idempotency-Key": "portal-2025-10-15"}
    first = client.post("/api/v1/batches", json=BODY | {"dryRun": True}, headers=headers | key)
    again = client.post("/api/v1/batches", json=BODY | {"dryRun": True}, headers=headers | key)
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.get_json()["id"] == again.get_json()["id"]
    preview = finished(client, headers, first.get_json()["id"])
    listed = client.get("/api/v1/batches", headers=headers).get_json()
    assert [item["id"] for item in listed["items"]] == [preview["id"]]  # one batch

    batch = finished(
        client,
        headers,
        client.post(f"/api/v1/batches/{preview['id']}/apply", headers=headers).get_json()["id"],
    )
    undo_id = client.post(f"/api/v1/batches/{batch['id']}/undo", headers=headers).get_json()["id"]
    finished(client, headers, undo_id)
    client.patch(
        "/api/v1/households/H1/preferences",
        json={"setBy": "staff", "changes": {"householdPhone": {"general": "on"}}},
        headers=headers,
    )

    audit = client.get("/api/v1/audit", headers=headers).get_json()
    trail = [
        (item["username"], item["action"], item["subject"])
        for item in reversed(audit["items"])
        if item["action"] not in ("token.create", "token.use", "user.create", "import.csv")
    ]
    assert trail == [
        ("ada", "batch.preview", f"batch:{preview['id']}"),
        ("ada", "batch.submit", f"batch:{batch['id']}"),
        ("ada", "batch.undo", f"batch:{undo_id}"),
        ("ada", "preferences.edit", "household:H1"),
    ]


def sample(kind: str, subject: str, name: str, channel: str, **changes: str) -> dict[str, Any]:
    return {
        "subjectType": kind,
        "subjectId": subject,
        "name": name,
        "channel": channel,
        "changes": changes,
    }


def conflict(message: str) -> dict[str, Any]:
    return {"code": "conflict", "message": message, "field": None}


def waiting_on_locks(factory: SessionFactory) -> int:
    with factory() as session:
        waiting: int = session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        )
        return waiting
