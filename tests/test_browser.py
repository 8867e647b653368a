"""The pages in a real browser (headless Chromium): sign in, fill the wizard, apply, land on the
batch page; and Preview submits a dry run. No worker runs here, so the batch stays queued."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import Batch
from tests.support.browser import browser_page, serving, sign_in
from tests.support.web import PASSWORD, EnqueueRecorder, add_district, add_user, make_app

pytestmark = pytest.mark.browser


@pytest.fixture
def base_url(
    sqlite_session_factory: SessionFactory, tmp_path: Path, enqueued: EnqueueRecorder
) -> Iterator[str]:
    add_user(sqlite_session_factory, "admin", "district_admin")
    add_district(sqlite_session_factory)
    with serving(make_app(sqlite_session_factory, tmp_path, enqueued)) as url:
        yield url


@pytest.fixture
def page(base_url: str) -> Iterator[Any]:
    with browser_page(base_url) as opened:
        yield opened


def sign_in_from_the_wizard(page: Any) -> None:
    page.goto("/batches/new")
    assert page.url.endswith("/login?next=%2Fbatches%2Fnew")
    sign_in(page, "admin", PASSWORD)
    page.wait_for_url("**/batches/new")


def batches(factory: SessionFactory) -> list[tuple[int, str, str | None, bool, dict[str, Any]]]:
    with factory() as session:
        rows = session.execute(
            select(Batch.id, Batch.mode, Batch.calendar_ext_id, Batch.dry_run, Batch.changes)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_apply_changes_lands_on_the_batch_page(
    page: Any, sqlite_session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    sign_in_from_the_wizard(page)
    page.get_by_label("Students", exact=True).check()
    page.get_by_label("School year").select_option("2025-26")
    page.get_by_label("School", exact=True).select_option("S-N")
    # The calendars of other schools are hidden once a school is chosen.
    assert page.locator("#calendarId option[value='C-S-26']").is_disabled()
    page.get_by_label("Calendar").select_option("C-N-26")
    page.get_by_label("Email: Emergency", exact=True).select_option("on")
    page.get_by_label("Household Phone: Attendance").select_option(label="Off")
    page.get_by_label("Keep guardians' own choices").check()
    page.get_by_role("button", name="Apply Changes").click()

    page.wait_for_url("**/batches/1")
    assert page.locator("#batch-status").inner_text() == "Queued"
    assert page.locator("progress#batch-progress").is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 1"
    # The page keeps polling the API (with the session cookie) and stays on queued.
    with page.expect_response("**/api/v1/batches/1") as polled:
        pass
    assert polled.value.status == 200
    assert polled.value.json()["status"] == "queued"

    [(batch_id, mode, calendar, dry_run, changes)] = batches(sqlite_session_factory)
    assert (batch_id, mode, calendar, dry_run) == (1, "student", "C-N-26", False)
    assert changes["email"]["emergency"] == "on"
    assert changes["householdPhone"]["attendance"] == "off"
    assert enqueued.calls == [("batches.plan", (1,))]


def test_preview_submits_a_dry_run(
    page: Any, sqlite_session_factory: SessionFactory, enqueued: EnqueueRecorder
):
    sign_in_from_the_wizard(page)
    page.get_by_label("Census/Staff").check()
    assert page.locator("#scope-fields").is_hidden()  # Census/Staff has no scope
    page.get_by_label("Filter", exact=True).select_option(label="staff")
    page.get_by_label("Work Phone: Staff").select_option("on")
    page.get_by_role("button", name="Preview").click()

    page.wait_for_url("**/batches/1")
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 1 (preview)"
    assert page.locator("#batch-status").inner_text() == "Queued"
    [(_, mode, _, dry_run, changes)] = batches(sqlite_session_factory)
    assert (mode, dry_run, changes["workPhone"]["staff"]) == ("census", True, "on")
    assert enqueued.calls == [("batches.plan", (1,))]


def test_a_wizard_error_is_shown_on_the_form(page: Any, sqlite_session_factory: SessionFactory):
    sign_in_from_the_wizard(page)
    page.get_by_label("Census/Staff").check()
    page.get_by_role("button", name="Apply Changes").click()
    alert = page.get_by_role("alert")
    assert " ".join(alert.inner_text().split()) == (
        "The batch was not submitted Ad hoc filter: "
        "Census/Staff needs a census filter: choose one under Ad hoc filter."
    )
    # the same words next to the control, which is marked invalid
    assert page.locator("#filterId-error").inner_text() == (
        "Census/Staff needs a census filter: choose one under Ad hoc filter."
    )
    assert page.get_by_label("Filter", exact=True).get_attribute("aria-invalid") == "true"
    assert page.get_by_label("Census/Staff").is_checked()
    assert batches(sqlite_session_factory) == []
