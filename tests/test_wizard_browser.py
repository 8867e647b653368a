"""The wizard in a real browser on the real stack (PostgreSQL, Redis, a `celery worker`): the
whole batch flow with the keyboard alone, the whole-row and whole-column shortcuts, and a
district-wide apply that is previewed first for confirmation. The district: tests/support/
stack.py (One School, S1; its calendar C1 of 2025-26)."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.core.settings import Settings
from shared.core.vocabulary import CHANNELS, REASONS
from shared.models import Batch
from tests.support.browser import browser_page, serving, sign_in
from tests.support.processes import celery_worker
from web import create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def page(stack_env: dict[str, str], pg_session_factory: SessionFactory) -> Iterator[Any]:
    app = create_app(Settings.from_env(stack_env), session_factory=pg_session_factory)
    with celery_worker(stack_env), serving(app) as url, browser_page(url, 20_000) as opened:
        opened.goto("/login")
        sign_in(opened, "ada", "correct horse battery")
        opened.wait_for_url("**/batches/new")
        yield opened


def focused(page: Any, selector: str) -> bool:
    found: bool = page.evaluate("(s) => document.activeElement.matches(s)", selector)
    return found


def tab_to(page: Any, selector: str, limit: int = 150) -> None:
    """Press Tab until the element matching `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def people(n: int) -> str:
    return f"{n} person" if n == 1 else f"{n} people"


def batches(factory: SessionFactory) -> list[tuple[int, bool, Any]]:
    with factory() as session:
        rows = session.execute(select(Batch.id, Batch.dry_run, Batch.changes).order_by(Batch.id))
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_whole_batch_flow_with_the_keyboard_alone(
    page: Any, pg_session_factory: SessionFactory
):
    tab_to(page, "#mode-studentContact")
    page.keyboard.press("ArrowDown")  # to Students
    assert focused(page, "#mode-student") and page.locator("#mode-student").is_checked()
    tab_to(page, "#calendarId")
    page.keyboard.type("2025-26")  # the calendar's text starts with its year
    assert page.locator("#calendarId").input_value() == "C1"
    tab_to(page, "#asOf")
    page.keyboard.type("10152025")
    assert page.locator("#asOf").input_value() == "2025-10-15"
    tab_to(page, '[id="changes.email.emergency"]')
    page.keyboard.type("On")
    tab_to(page, "button[value=apply]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/batches/1")
    page.locator("#result").wait_for(timeout=30_000)
    assert page.locator("#batch-status").inner_text() == "Finished"
    result = page.request.get("/api/v1/batches/1").json()["result"]
    changed = result["counts"]["email"]["emergency"]
    reached, skipped = result["reached"]["people"], result["skipped"]["noAddress"]
    assert reached + skipped == result["targets"] > 0
    assert page.locator("#result-summary li").all_inner_texts() == [
        f"Found {people(result['targets'])} to update.",
        f"Changed {changed} value{'' if changed == 1 else 's'}.",
        f"Reached {people(reached)} and 0 households.",
        *(
            [f"Skipped {people(skipped)} with no address on the channels it sets."]
            if skipped
            else []
        ),
    ]
    tab_to(page, "#undo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/batches/1/undo")
    tab_to(page, "#confirm-undo")
    page.keyboard.press("Enter")
    page.wait_for_url("**/batches/2")
    page.locator("#result").wait_for(timeout=30_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 2: undo of batch 1"
    [(_, dry_run, changes), _] = batches(pg_session_factory)
    assert dry_run is False
    assert [(c, r) for c in CHANNELS for r in REASONS if changes[c][r] != "noChange"] == [
        ("email", "emergency")
    ]
    assert changes["email"]["emergency"] == "on"


def test_whole_row_and_whole_column_shortcuts(page: Any, pg_session_factory: SessionFactory):
    page.get_by_label("Calendar").select_option("C1")
    page.get_by_label("As of").fill("2025-10-15")
    page.get_by_label("Whole row: Email", exact=True).select_option("on")
    page.get_by_label("Whole column: Emergency", exact=True).select_option("off")
    assert page.get_by_label("Whole row: Email", exact=True).input_value() == ""  # ready again
    page.get_by_role("button", name="Preview").click()
    page.wait_for_url("**/batches/1")
    [(_, dry_run, changes)] = batches(pg_session_factory)
    assert dry_run is True
    expected = {
        c: {r: "off" if r == "emergency" else "on" if c == "email" else "noChange" for r in REASONS}
        for c in CHANNELS
    }
    assert changes == expected


def test_a_whole_district_apply_is_previewed_for_confirmation(
    page: Any, pg_session_factory: SessionFactory
):
    page.get_by_label("School year").select_option("2025-26")
    page.get_by_label("As of").fill("2025-10-15")
    page.get_by_label("Email: Emergency", exact=True).select_option("on")
    page.get_by_role("button", name="Apply Changes").click()
    page.wait_for_url("**/batches/1")
    assert (
        page.get_by_role("status")
        .first.inner_text()
        .startswith(
            "This batch reaches the whole district, so it was previewed first: nothing has changed"
        )
    )
    assert [(i, dry) for i, dry, _ in batches(pg_session_factory)] == [(1, True)]
    page.locator("#result").wait_for(timeout=30_000)
    assert page.get_by_role("heading", level=1).inner_text() == "Batch 1 (preview)"
    page.get_by_role("button", name="Apply Changes").click()
    page.wait_for_url("**/batches/2")
    assert [(i, dry) for i, dry, _ in batches(pg_session_factory)] == [(1, True), (2, False)]
