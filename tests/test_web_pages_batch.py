"""The batch page (a finished, failed or queued batch, and what can be done with it: undo, cancel,
apply, not for a viewer), the history, and the static files. Times in the district's time zone:
tests/unit/test_labels.py."""

import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import Batch, BatchChunk, Filter, User
from tests.support.web import EnqueueRecorder, Page, add_user, log_in, make_app
from tests.support.web_pages import REASON_LABELS, changes_with
from tests.support.web_pages import app as app  # the fixture, for pytest to find here


def add_finished_batch(factory: SessionFactory, **overrides: Any) -> int:
    counts: dict[str, dict[str, int | None]] = {c: dict.fromkeys(REASONS) for c in CHANNELS}
    counts["householdPhone"]["attendance"] = 4
    counts["email"].update(emergency=12, priority=0)
    kept: dict[str, dict[str, int | None]] = {c: dict.fromkeys(REASONS) for c in CHANNELS}
    kept["householdPhone"]["attendance"] = 0
    kept["email"].update(emergency=2, priority=0)
    values: dict[str, Any] = {
        "kind": "batch",
        "status": "succeeded",
        "mode": "studentContact",
        "calendar_ext_id": "C-N-26",
        "as_of": date(2025, 10, 15),
        "changes": changes_with(
            householdPhone__attendance="on", email__emergency="on", email__priority="off"
        ),
        "keep_guardian_choices": True,
        "submitted_at": datetime(2025, 10, 15, 8, 0, tzinfo=UTC),
        "started_at": datetime(2025, 10, 15, 8, 0, 1, tzinfo=UTC),
        "finished_at": datetime(2025, 10, 15, 8, 0, 3, tzinfo=UTC),
        "planned": True,
        "chunks_total": 2,
        "targets": 6,
        "errors": [],
        "counts": counts,
        "kept": kept,
        "reached_people": 5,
        "reached_households": 2,
        "skipped_no_address": 1,
        **overrides,
    }
    if values["kind"] == "undo":  # an undo's second table is its conflicts
        values.setdefault("conflicts", kept)
    with factory.begin() as session:
        batch = Batch(**values)
        session.add(batch)
        session.flush()
        session.add_all(
            [
                BatchChunk(batch_id=batch.id, chunk_no=n, done=True, people=3)
                for n in range(values["chunks_total"] or 0)
            ]
        )
        return batch.id


def test_the_batch_page_shows_a_finished_result(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    batch_id = add_finished_batch(session_factory)
    response = client.get(f"/batches/{batch_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = Page(html)
    assert "<p>Mode: studentContact</p>" in html
    assert "<p>Errors: No Errors</p>" in html
    assert summary(html) == [
        "Found 6 people to update.",
        "Changed 16 values.",
        "Reached 5 people and 2 households.",
        "Kept 2 values as guardians set them.",
        "Skipped 1 person with no address on the channels it sets.",
    ]
    assert "<dt>Scope</dt><dd>Calendar North 25-26</dd>" in html
    assert "<dt>Finished</dt><dd>2025-10-15 08:00:03 UTC</dd>" in html
    assert '<progress id="batch-progress" max="6" value="6">6 of 6 people</progress>' in html
    assert '<span id="batch-progress-text">6 of 6 people</span>' in html
    assert 'aria-live="polite">Finished<' in html
    assert "batch.js" not in html  # finished: nothing to poll
    no = "No Change"
    assert page.tables["counts"] == [
        ["Channel", *REASON_LABELS],
        ["Household Phone", no, "4", no, no, no, no, no, no],
        ["Home Phone", *[no] * 8],
        ["Work Phone", *[no] * 8],
        ["Cell Phone", *[no] * 8],
        ["Email", "12", no, no, no, no, no, "0", no],
        ["Secondary Email", *[no] * 8],
    ]
    assert page.tables["kept"][1] == ["Household Phone", no, "0", no, no, no, no, no, no]
    assert page.tables["kept"][5] == ["Email", "2", no, no, no, no, no, "0", no]


def test_the_batch_page_lists_errors_of_a_failed_batch(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    batch_id = add_finished_batch(
        session_factory,
        status="failed",
        errors=["chunk 1: deadlock detected", "gave up after 3 tries"],
        keep_guardian_choices=False,
    )
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert (
        '<p>Errors:</p>\n  <ul class="errors"><li>chunk 1: deadlock detected</li>'
        "<li>gave up after 3 tries</li></ul>"
    ) in html
    assert "No Errors" not in html
    assert "kept" not in Page(html).tables


def test_the_batch_page_of_a_queued_batch_polls(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    batch_id = add_finished_batch(
        session_factory, status="queued", started_at=None, finished_at=None, chunks_total=None
    )
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert f'data-poll-url="/api/v1/batches/{batch_id}" data-final="false"' in html
    assert '<progress id="batch-progress">' in html
    assert '<script src="/static/batch.js" defer></script>' in html
    assert "Result" not in html


def test_an_unknown_batch_page_is_404(client: FlaskClient, csrf: str):
    response = client.get("/batches/42")
    assert response.status_code == 404
    assert "No batch 42. It may have been removed" in response.get_data(as_text=True)


def test_the_batch_page_offers_what_can_be_done(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    finished = add_finished_batch(session_factory)
    html = client.get(f"/batches/{finished}").get_data(as_text=True)
    assert f'href="/batches/{finished}/undo">Undo…</a>' in html
    assert f'href="/api/v1/batches/{finished}/changes.csv" download>' in html
    assert 'id="cancel"' not in html and 'id="apply"' not in html
    running = add_finished_batch(session_factory, status="running", finished_at=None)
    html = client.get(f"/batches/{running}").get_data(as_text=True)
    assert f'action="/batches/{running}/cancel"' in html
    assert "Undo…" not in html and "changes.csv" not in html
    preview = add_finished_batch(session_factory, dry_run=True)
    html = client.get(f"/batches/{preview}").get_data(as_text=True)
    assert f'action="/batches/{preview}/apply"' in html
    assert "Undo…" not in html


def test_undo_asks_first_then_queues_the_undo(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    batch_id = add_finished_batch(session_factory)
    confirm = client.get(f"/batches/{batch_id}/undo")
    assert confirm.status_code == 200
    assert f"<h1>Undo batch {batch_id}?</h1>" in confirm.get_data(as_text=True)
    assert enqueued.calls == []  # asking changes nothing
    assert client.post(f"/batches/{batch_id}/undo").status_code == 400  # no CSRF token

    done = client.post(f"/batches/{batch_id}/undo", data={"csrf_token": csrf})
    undo_id = batch_id + 1
    assert (done.status_code, done.headers["Location"]) == (302, f"/batches/{undo_id}")
    assert enqueued.calls == [("batches.plan", (undo_id,))]
    html = client.get(f"/batches/{undo_id}").get_data(as_text=True)
    assert f"The undo of batch {batch_id} is queued." in html
    assert f"<h1>Batch {undo_id}: undo of batch {batch_id}</h1>" in html

    twice = client.post(f"/batches/{batch_id}/undo", data={"csrf_token": csrf})
    assert twice.headers["Location"] == f"/batches/{batch_id}"
    assert f"batch {batch_id} was undone already, by batch {undo_id}" in client.get(
        f"/batches/{batch_id}"
    ).get_data(as_text=True)


def test_cancel_from_the_page(
    client: FlaskClient, csrf: str, session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    batch_id = add_finished_batch(session_factory, status="running", finished_at=None)
    done = client.post(f"/batches/{batch_id}/cancel", data={"csrf_token": csrf})
    assert (done.status_code, done.headers["Location"]) == (302, f"/batches/{batch_id}")
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert f"Batch {batch_id} is cancelled: nothing more of it will run." in html
    assert 'aria-live="polite">Cancelled<' in html
    again = client.post(f"/batches/{batch_id}/cancel", data={"csrf_token": csrf})
    assert again.headers["Location"] == f"/batches/{batch_id}"
    assert "has finished (cancelled); there is nothing to stop" in client.get(
        f"/batches/{batch_id}"
    ).get_data(as_text=True)


def test_a_viewer_cannot_undo_cancel_or_apply(
    session_factory: SessionFactory, tmp_path: Path, web_district: dict[str, int]
):
    batch_id = add_finished_batch(session_factory)
    add_user(session_factory, "vera", "viewer")
    client = make_app(session_factory, tmp_path).test_client()
    csrf = log_in(client, "vera")
    assert "Undo…" not in client.get(f"/batches/{batch_id}").get_data(as_text=True)
    for action in ("undo", "cancel", "apply"):
        response = client.post(f"/batches/{batch_id}/{action}", data={"csrf_token": csrf})
        assert response.status_code == 403


def summary(html: str) -> list[str]:
    """The result's sentences, from the page's list of them."""
    found = re.search(r'<ul id="result-summary">(.*?)</ul>', html, re.S)
    assert found is not None
    return re.findall(r"<li>(.*?)</li>", found.group(1))


def test_history_lists_batches_newest_first_in_words(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    with session_factory() as session:
        admin = session.scalar(select(User.id).where(User.username == "admin"))
        grades = session.scalar(select(Filter.id).where(Filter.name == "grades 9-10"))
    first = add_finished_batch(session_factory, submitted_by=admin, filter_id=grades)
    second = add_finished_batch(
        session_factory,
        status="running",
        finished_at=None,
        mode="student",
        calendar_ext_id=None,
        school_ext_id="S-S",
        school_year="2025-26",
        submitted_at=datetime(2025, 10, 16, 9, 0, tzinfo=UTC),
    )
    undo = add_finished_batch(
        session_factory,
        kind="undo",
        undo_of=first,
        keep_guardian_choices=False,
        submitted_at=datetime(2025, 10, 17, 7, 30, tzinfo=UTC),
    )
    rows = Page(client.get("/batches").get_data(as_text=True)).tables["history"]
    assert rows == [
        ["Batch", "Submitted", "Mode", "Scope", "Filter", "Status", "Values changed", "Undo"],
        [f"Batch {undo}", "2025-10-17 07:30:00 UTC", "Undo", "Calendar North 25-26", "—",
         "Finished", "16 (restored)", f"undo of batch {first}"],
        [f"Batch {second}", "2025-10-16 09:00:00 UTC", "Students", "South High, 2025-26", "—",
         "Running", "—", ""],
        [f"Batch {first}", "2025-10-15 08:00:00 UTC by admin", "Student Messenger Contacts",
         "Calendar North 25-26", "grades 9-10", "Finished", "16", f"undone by batch {undo}"],
    ]  # fmt: skip

    def listed(query: str) -> list[str]:
        page = Page(client.get(f"/batches?{query}").get_data(as_text=True))
        return [row[0] for row in page.tables["history"][1:]]

    assert listed("status=running") == [f"Batch {second}"]
    assert listed("mode=student") == [f"Batch {second}"]
    assert listed("submittedBy=admin") == [f"Batch {first}"]
    assert listed("submittedFrom=2025-10-16&submittedTo=2025-10-16") == [f"Batch {second}"]
    assert listed("submittedTo=2025-10-15&status=") == [f"Batch {first}"]
    refused = client.get("/batches?submittedFrom=2025-02-30")
    assert refused.status_code == 400
    assert "there is no such day as 2025-02-30: February 2025 has 28 days (From)" in (
        refused.get_data(as_text=True)
    )
    assert client.get("/batches?status=bogus").status_code == 400


def test_static_files_are_served(client: FlaskClient):
    for name, kind in [("style.css", "text/css"), ("wizard.js", "text/javascript"),
                       ("batch.js", "text/javascript")]:  # fmt: skip
        response = client.get(f"/static/{name}")
        assert (response.status_code, response.mimetype) == (200, kind)
        response.close()


def test_a_batch_cancelled_before_it_ran_says_so_and_offers_no_undo(
    client: FlaskClient, csrf: str, session_factory: SessionFactory
):
    zeros = {c: {r: None for r in REASONS} for c in CHANNELS}
    zeros["email"]["emergency"] = 0
    batch_id = add_finished_batch(
        session_factory, status="cancelled", planned=False, chunks_total=None, targets=None,
        counts=zeros, kept=zeros, reached_people=None, reached_households=None,
        skipped_no_address=None, keep_guardian_choices=False,
    )  # fmt: skip
    html = client.get(f"/batches/{batch_id}").get_data(as_text=True)
    assert summary(html) == ["Cancelled before it changed anything."]
    assert '<span id="batch-progress-text"></span>' in html
    assert "Undo…" not in html and 'id="nothing-to-undo"' in html
