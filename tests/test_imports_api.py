"""Imports as jobs through the API: upload, the job in its turn, its report and quarantine CSV,
one import at a time, and every refusal before anything is written. The job runs in-process
here (the pipeline's steps, as a worker runs them); tests/test_imports_browser.py runs it in a
real worker. On SQLite and PostgreSQL."""

import csv
import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from shared.core.db import SessionFactory
from shared.models import ImportJob, Person
from tests.support.csv_bundle import PEOPLE_HEADER, export
from tests.support.imports import import_json, native_zip, run_imports, upload, zipped
from tests.support.web import (
    EnqueueRecorder,
    add_user,
    audit_rows,
    error_of,
    log_in,
    make_app,
)

DIRTY_PEOPLE = (
    f"{PEOPLE_HEADER}\n"
    "P1,Ann,Lee,1001,,5550001,,5550002,=cmd|' /C calc'!A0@x.org,\n"
    "P2,Bob,Lee,,,,5550003,,,\n"
    "P3,Cy,Day,,E7,,,,cy@example.org,cy2@example.org\n"
)
FILES = {
    "schools.csv": {"added": 2, "updated": 0, "unchanged": 0, "ended": 0},
    "calendars.csv": {"added": 2, "updated": 0, "unchanged": 0, "ended": 0},
    "people.csv": {"added": 3, "updated": 0, "unchanged": 0, "ended": 0},
    "households.csv": {"added": 2, "updated": 0, "unchanged": 0, "ended": 0},
    "householdMembers.csv": {"added": 3, "updated": 0, "unchanged": 0, "ended": 0},
    "enrollments.csv": {"added": 2, "updated": 0, "unchanged": 0, "ended": 0},
    "relationships.csv": {"added": 2, "updated": 0, "unchanged": 0, "ended": 0},
    "districtAssignments.csv": {"added": 2, "updated": 0, "unchanged": 0, "ended": 0},
    "preferences.csv": {"added": 3, "updated": 0, "unchanged": 0, "ended": 0},
}


@pytest.fixture
def app(session_factory: SessionFactory, tmp_path, enqueued: EnqueueRecorder) -> Flask:
    for name, role in (("admin", "district_admin"), ("vera", "viewer")):
        add_user(session_factory, name, role)
    return make_app(session_factory, tmp_path, enqueued, import_max_bytes=64 * 1024)


def headers(csrf: str) -> dict[str, str]:
    return {"X-CSRFToken": csrf}


def test_an_upload_is_imported_by_the_job_with_its_report(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    data = native_zip({"people.csv": DIRTY_PEOPLE}, folder="export-2026/")
    accepted = upload(client, data, headers=headers(csrf), filename="district.zip")
    assert accepted.status_code == 202, accepted.get_json()
    import_id = accepted.get_json()["id"]
    assert accepted.get_json() == {
        "id": import_id,
        "status": "queued",
        "url": f"/api/v1/imports/{import_id}",
    }
    queued = import_json(client, import_id)
    assert (queued["status"], queued["progress"], queued["report"]) == (
        "queued",
        {"files": 0, "rows": 0},
        None,
    )

    run_imports(session_factory, enqueued)

    done = import_json(client, import_id)
    assert {k: done[k] for k in ("status", "format", "filename", "size", "submittedBy")} == {
        "status": "succeeded",
        "format": "native",
        "filename": "district.zip",
        "size": len(data),
        "submittedBy": "admin",
    }
    assert done["progress"] == {"files": 9, "rows": 21}
    assert done["report"] == {
        "files": FILES,
        "quarantined": 1,
        "skipped": 0,
        "errors": [],
    }
    csv_answer = client.get(f"/api/v1/imports/{import_id}/quarantine.csv")
    assert csv_answer.status_code == 200
    assert list(csv.reader(io.StringIO(csv_answer.get_data(as_text=True)))) == [
        ["file", "line", "column", "value", "why"],
        [
            "people.csv",
            "2",
            "email",
            "'=cmd|' /C calc'!A0@x.org",
            "a spreadsheet would run it as a formula",
        ],
    ]
    listed = client.get("/api/v1/imports").get_json()
    assert ([item["id"] for item in listed["items"]], listed["total"]) == ([import_id], 1)
    with session_factory.begin() as session:
        assert session.scalar(select(Person.email).where(Person.ext_id == "P1")) is None
        assert session.scalar(select(ImportJob.upload)) is None  # cleared once imported
    actions = [(who, action, subject) for who, action, subject, _ in audit_rows(session_factory)]
    assert ("admin", "import.submit", f"import:{import_id}") in actions
    assert ("admin", "import.succeeded", f"import:{import_id}") in actions


def test_a_structural_problem_fails_the_job_and_writes_nothing(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    broken = native_zip({"calendars.csv": "calendarId,schoolId,name,schoolYear,startDate\n"})
    import_id = upload(client, broken, headers=headers(csrf)).get_json()["id"]
    run_imports(session_factory, enqueued)
    done = import_json(client, import_id)
    assert done["status"] == "failed"
    assert done["report"] == {
        "files": {},
        "quarantined": 0,
        "skipped": 0,
        "errors": [
            "calendars.csv:1: endDate: missing column",
            "enrollments.csv:2: calendarId: unknown calendar 'C1'",
            "enrollments.csv:3: calendarId: unknown calendar 'C2'",
        ],
    }
    with session_factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 0
        assert export(session).count("\r\n") == 1  # the header alone


def test_one_import_at_a_time(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    first = upload(client, native_zip(), headers=headers(csrf))
    assert first.status_code == 202
    second = upload(client, native_zip(), headers=headers(csrf))
    assert second.status_code == 409
    assert error_of(second) == {
        "code": "conflict",
        "message": f"import {first.get_json()['id']} is queued or running; "
        "wait until it has finished",
        "field": None,
    }
    # An import is not a batch: it is not listed, read, undone or cancelled as one.
    assert client.get("/api/v1/batches").get_json()["total"] == 0
    with session_factory.begin() as session:
        batch_id = session.scalar(select(ImportJob.batch_id))
    assert client.get(f"/api/v1/batches/{batch_id}").status_code == 404
    assert (
        client.post(f"/api/v1/batches/{batch_id}/cancel", headers=headers(csrf)).status_code == 404
    )
    run_imports(session_factory, enqueued)
    assert upload(client, native_zip(), headers=headers(csrf)).status_code == 202


@pytest.mark.parametrize(
    "data, fmt, field, message",
    [
        (b"not a zip at all", "native", "file", "the file is not a zip file"),
        (
            zipped({"../people.csv": "x"}),
            "native",
            "file",
            "zip entry '../people.csv' has a '..' component",
        ),
        (
            zipped({"/etc/people.csv": "x"}),
            "native",
            "file",
            "zip entry '/etc/people.csv' has an absolute path",
        ),
        (
            zipped({"people.csv": "0" * 2_000_000}),
            "native",
            "file",
            "the zip would unpack to 2000000 bytes, over 100 times its size",
        ),
        (
            zipped({"users.csv": "x"}),
            "oneroster",
            "file",
            "the zip holds no manifest.csv: is it a OneRoster bundle?",
        ),
        (native_zip(), "csv", "format", "give format: native or oneroster"),
        (
            b"x" * (64 * 1024 + 1),
            "native",
            "file",
            f"the file is {64 * 1024 + 1} bytes; an upload may be at most {64 * 1024} bytes",
        ),
        (b"", "native", "file", "the file is empty"),
    ],
    ids=["not-zip", "dotdot", "absolute", "bomb", "no-manifest", "format", "too-big", "empty"],
)
def test_a_bad_upload_is_refused_before_anything_is_written(
    client: FlaskClient,
    csrf: str,
    session_factory: SessionFactory,
    data: bytes,
    fmt: str,
    field: str,
    message: str,
):
    refused = upload(client, data, fmt, headers=headers(csrf))
    assert refused.status_code == 400, refused.get_json()
    error = error_of(refused)
    assert error["field"] == field
    assert error["message"] == message
    with session_factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(ImportJob)) == 0


def test_only_a_district_admin_uploads_and_unknown_fields_are_refused(
    app: Flask, client: FlaskClient, csrf: str
):
    extra = client.post(
        "/api/v1/imports",
        data={"format": "native", "file": (io.BytesIO(native_zip()), "b.zip"), "mode": "x"},
        headers=headers(csrf),
    )
    assert (extra.status_code, error_of(extra)["field"]) == (400, "mode")
    viewer = app.test_client()
    assert upload(viewer, native_zip(), headers=headers(log_in(viewer, "vera"))).status_code == 403
    assert app.test_client().post("/api/v1/imports").status_code == 401


def test_an_import_takes_its_turn_between_the_batches(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    upload(client, native_zip(), headers=headers(csrf))
    run_imports(session_factory, enqueued)
    batch = {
        "mode": "student",
        "scope": {"schoolYear": "2025-26"},
        "asOf": "2025-10-01",
        "changes": {"email": {"general": "on"}},
    }
    before = client.post("/api/v1/batches", json=batch, headers=headers(csrf)).get_json()["id"]
    # The second import takes the student P1's e-mail address away.
    no_address = native_zip({"people.csv": DIRTY_PEOPLE.replace("=cmd|' /C calc'!A0@x.org", "")})
    import_id = upload(client, no_address, headers=headers(csrf)).get_json()["id"]
    after = client.post("/api/v1/batches", json=batch, headers=headers(csrf)).get_json()["id"]
    run_imports(session_factory, enqueued)

    first = client.get(f"/api/v1/batches/{before}").get_json()
    second = client.get(f"/api/v1/batches/{after}").get_json()
    job = import_json(client, import_id)
    assert first["finishedAt"] <= job["startedAt"] <= job["finishedAt"] <= second["startedAt"]
    # The first batch set the address before the import took it away; the second found none.
    assert first["result"]["counts"]["email"]["general"] == 1
    assert job["report"]["files"]["people.csv"] == {
        "added": 0,
        "updated": 1,
        "unchanged": 2,
        "ended": 0,
    }
    assert (second["result"]["counts"]["email"]["general"], second["result"]["targets"]) == (0, 1)
