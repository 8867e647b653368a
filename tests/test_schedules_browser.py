"""The schedule pages in a real browser on the real stack (PostgreSQL, Redis, a `celery worker`),
in America/Chicago: make the start-of-year reset from its ready-made form, see its next three
runs, run it now and follow its batch to the result, then pause it. The district and its counts:
tests/support/stack.py."""

from collections.abc import Iterator
from typing import Any

import pytest

from shared.core.db import SessionFactory
from shared.core.settings import Settings
from tests.support.browser import browser_page, serving, sign_in
from tests.support.processes import celery_worker
from tests.support.schedule_pages import next_first_of_august
from web import create_app

pytestmark = pytest.mark.browser

REASONS_SHOWN = ["Emergency", "Attendance", "Priority"]
# Every channel's emergency, attendance and priority on, for G1, G2, G5 and G6 (the messenger
# contacts of T1 to T4): household phones of H1 (G1) and H2 (G2, G6; H3 of G5 has no phone);
# G5's home phone; G1's cell phone; the emails of G1 (emergency on already), G2 and G6; nobody
# has a work phone or a secondary email.
COUNTS = {
    "Household Phone": ["2", "2", "2"],
    "Home Phone": ["1", "1", "1"],
    "Work Phone": ["0", "0", "0"],
    "Cell Phone": ["1", "1", "1"],
    "Email": ["2", "3", "3"],
    "Secondary Email": ["0", "0", "0"],
}


@pytest.fixture
def page(stack_env: dict[str, str], pg_session_factory: SessionFactory) -> Iterator[Any]:
    env = stack_env | {"CPB_TIMEZONE": "America/Chicago"}
    app = create_app(Settings.from_env(env), session_factory=pg_session_factory)
    with celery_worker(env), serving(app) as url, browser_page(url) as opened:
        opened.goto("/login")
        sign_in(opened, "ada", "correct horse battery")
        opened.wait_for_url("**/batches/new")
        yield opened


def texts(locator: Any) -> list[str]:
    return [" ".join(text.split()) for text in locator.all_inner_texts()]


def counts_shown(page: Any) -> dict[str, list[str]]:
    """The result's counts of emergency, attendance and priority, per channel."""
    header = texts(page.locator("#counts thead th"))
    columns = [header.index(reason) - 1 for reason in REASONS_SHOWN]
    shown = {}
    for row in page.locator("#counts tbody tr").all():
        cells = texts(row.locator("td"))
        shown[row.locator("th").inner_text()] = [cells[column] for column in columns]
    return shown


def test_the_start_of_year_reset_from_its_form_to_its_batch(page: Any):
    page.get_by_role("link", name="Schedules", exact=True).click()
    page.wait_for_url("**/schedules")
    assert page.get_by_text("No schedules yet.").is_visible()
    page.get_by_role("link", name="New schedule").click()
    page.wait_for_url("**/schedules/new")
    page.get_by_role("link", name="Start-of-year reset").click()
    page.wait_for_url("**/schedules/new?template=start-of-year")
    assert page.get_by_label("Name", exact=True).input_value() == "Start-of-year reset"
    assert page.get_by_label("Email: Priority", exact=True).input_value() == "on"
    assert page.get_by_label("Every year").is_checked()
    page.get_by_role("button", name="Save schedule").click()

    page.wait_for_url("**/schedules/1")
    assert page.get_by_role("heading", level=1).inner_text() == "Schedule Start-of-year reset"
    assert page.locator("#rule-text").inner_text() == "every year on 1 August at 02:00"
    assert texts(page.locator("#next-runs li")) == next_first_of_august()
    assert all(when.endswith(", 02:00 CDT") for when in next_first_of_august())

    page.get_by_role("button", name="Run now").click()
    page.wait_for_url("**/batches/1")
    page.locator("#result").wait_for(timeout=30_000)  # the page reloads once it has finished
    assert page.locator("#batch-status").inner_text() == "Finished"
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 1"
    assert counts_shown(page) == COUNTS

    page.go_back()
    page.wait_for_url("**/schedules/1")
    run = texts(page.locator("#runs tbody tr td"))
    assert run[1:] == ["Ran", "batch 1", "", "ada"]
    assert run[0].endswith(("CST", "CDT"))
    page.get_by_role("button", name="Pause").click()
    page.wait_for_url("**/schedules/1")
    assert page.get_by_role("status").first.inner_text() == "Paused."
    assert page.locator("#schedule-state").inner_text() == "Paused"
    assert page.locator("#next-runs li").count() == 0
    assert page.get_by_text("None: the schedule is paused.").is_visible()
    page.get_by_role("link", name="Schedules", exact=True).click()
    listed = texts(page.locator("#schedules tbody tr td"))
    assert listed[:3] == ["every year on 1 August at 02:00", "none", "Paused"]
    assert listed[3].startswith("Ran, ") and listed[3].endswith(": batch 1")
