"""The batch pages in a real browser on the real stack (PostgreSQL, Redis, a `celery worker`):
preview from the wizard, apply it from its page, undo with the confirmation, cancel a running
batch, and see it all in the audit log. The district and its counts: tests/support/stack.py."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from shared.core.db import SessionFactory
from shared.core.settings import Settings
from tests.support.browser import browser_page, serving, sign_in
from tests.support.processes import celery_worker, wait_until
from tests.test_safer_batches import waiting_on_locks
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def page(stack_env: dict[str, str], pg_session_factory: SessionFactory) -> Iterator[Any]:
    """One pool process, so the cancel test can hold the first chunk with a lock."""
    app = create_app(Settings.from_env(stack_env), session_factory=pg_session_factory)
    with celery_worker(stack_env, concurrency=1), serving(app) as url, browser_page(url) as opened:
        opened.goto("/login")
        sign_in(opened, "ada", "correct horse battery")
        opened.wait_for_url("**/batches/new")
        yield opened


def fill_wizard(page: Any) -> None:
    """Student Messenger Contacts of S1: email emergency on (G2 and G6 change; G1 is on)."""
    page.goto("/batches/new")
    page.get_by_label("Student Messenger Contacts").check()
    page.get_by_label("School year").select_option("2025-26")
    page.get_by_label("School", exact=True).select_option("S1")
    page.get_by_label("As of").fill("2025-10-15")
    page.get_by_label("Email: Emergency", exact=True).select_option("on")


def wait_final(page: Any, status: str = "Finished") -> None:
    """The page polls and reloads itself once the batch has finished."""
    page.locator("#result").wait_for(timeout=30_000)
    assert page.locator("#batch-status").inner_text() == status


def email_emergency(page: Any, table: str = "counts") -> str:
    text_: str = (
        page.locator(f"#{table} tr", has_text="Email").first.locator("td").first.inner_text()
    )
    return text_


def test_preview_apply_and_undo_in_the_browser(page: Any):
    fill_wizard(page)
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**/batches/1")
    wait_final(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 1 (preview)"
    assert email_emergency(page) == "2"
    sample = page.locator("#sample tbody tr")
    assert sample.count() == 2
    assert sample.nth(0).inner_text().split("\t") == [
        "person G2",
        "Gus Two",
        "Email",
        "Emergency on",
    ]

    page.get_by_role("button", name="Apply Changes").click()
    page.wait_for_url("**/batches/2")
    wait_final(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 2"
    assert email_emergency(page) == "2"
    assert page.get_by_role("link", name="Download the change log (CSV)").is_visible()

    page.get_by_role("link", name="Undo…").click()
    page.wait_for_url("**/batches/2/undo")
    assert page.get_by_role("heading", level=1).inner_text() == "Undo batch 2?"
    page.get_by_role("button", name="Undo batch 2").click()
    page.wait_for_url("**/batches/3")
    assert page.get_by_role("status").first.inner_text() == "The undo of batch 2 is queued."
    wait_final(page)
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 3: undo of batch 2"
    assert email_emergency(page) == "2"  # restored
    assert email_emergency(page, "conflicts") == "0"

    page.goto("/batches/2")
    assert page.get_by_role("link", name="batch 3").is_visible()  # undone by
    assert page.get_by_role("link", name="Undo…").count() == 0  # once only


def test_cancel_a_running_batch_in_the_browser(page: Any, pg_session_factory: SessionFactory):
    with pg_session_factory() as blocker:
        # G2's email row held: the first chunk (G1, on already) runs, the second (G2) waits
        # on the row it changes
        blocker.execute(
            text(
                "SELECT 1 FROM preferences p JOIN people a ON a.id = p.subject_id "
                "WHERE a.ext_id = 'G2' AND p.channel = 4 FOR UPDATE OF p"
            )
        )
        fill_wizard(page)
        page.get_by_role("button", name="Apply Changes").click()
        page.wait_for_url("**/batches/1")
        wait_until(lambda: waiting_on_locks(pg_session_factory) == 1, timeout=30)
        page.reload()
        assert page.locator("#batch-status").inner_text() == "Running"
        page.get_by_role("button", name="Cancel").click(no_wait_after=True)
        wait_until(lambda: waiting_on_locks(pg_session_factory) == 2, timeout=30)
        blocker.rollback()
    page.get_by_text("Batch 1 is cancelled").wait_for(timeout=30_000)
    assert page.locator("#batch-status").inner_text() == "Cancelled"
    assert page.locator("#batch-progress-text").inner_text() == "2 of 4 people"
    assert email_emergency(page) == "1"  # G2's (G1's was on already); G5 and G6 never ran
    assert page.get_by_role("link", name="Undo…").is_visible()

    page.goto("/audit")
    rows = page.locator("#audit tbody tr")
    assert [rows.nth(i).locator("td").nth(2).inner_text() for i in range(2)] == [
        "Cancel",
        "Batch submitted",
    ]
    assert rows.nth(0).locator("td").nth(1).inner_text() == "ada"
