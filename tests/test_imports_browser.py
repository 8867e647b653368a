"""The import pages in a real browser on the real stack (PostgreSQL, Redis, a `celery worker`):
set the default grid, upload a OneRoster zip (the hand-written 1.1 district, with a dirty
address), follow the job to its report, and find the quarantined address on the person page."""

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from shared.core.db import SessionFactory
from shared.core.settings import Settings
from tests.support.browser import browser_page, serving, sign_in
from tests.support.processes import celery_worker
from web import create_app

pytestmark = pytest.mark.browser

FIXTURE = Path(__file__).parent / "fixtures" / "oneroster" / "v1p1"
NOT_EMAIL = "not an e-mail address (name@domain.example, without spaces)"


@pytest.fixture
def page(stack_env: dict[str, str], pg_session_factory: SessionFactory) -> Iterator[Any]:
    app = create_app(Settings.from_env(stack_env), session_factory=pg_session_factory)
    with celery_worker(stack_env), serving(app) as url, browser_page(url) as opened:
        opened.goto("/login")
        sign_in(opened, "ada", "correct horse battery")
        opened.wait_for_url("**/batches/new")
        yield opened


def texts(locator: Any) -> list[str]:
    return [" ".join(text.split()) for text in locator.all_inner_texts()]


def test_upload_a_oneroster_zip_and_read_its_report(page: Any, tmp_path: Path):
    page.get_by_role("link", name="Imports", exact=True).click()
    page.wait_for_url("**/imports")
    assert page.get_by_text("No imports yet.").is_visible()

    page.get_by_role("link", name="default grid").click()
    page.wait_for_url("**/defaults")
    page.get_by_label("Email, Emergency", exact=True).select_option("on")
    page.get_by_role("button", name="Save the default grid").click()
    page.wait_for_url("**/defaults")
    assert page.get_by_label("Email, Emergency", exact=True).input_value() == "on"

    bundle = tmp_path / "lakeside.zip"
    with zipfile.ZipFile(bundle, "w") as archive:
        for path in sorted(FIXTURE.iterdir()):
            text = path.read_text().replace("rosa.diaz@example.org", "rosa diaz@example.org")
            archive.writestr(f"lakeside/{path.name}", text)
    page.goto("/imports")
    page.get_by_label("OneRoster 1.1 or 1.2 CSV (zip)").check()
    page.get_by_label("Zip file", exact=False).set_input_files(str(bundle))
    page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/imports/1")
    # The page reloads itself every 3 s until the import has finished.
    expect(page.locator("#import-status")).to_have_text("Succeeded", timeout=30_000)
    assert (
        page.locator("#import-findings-count")
        .inner_text()
        .startswith(
            "1 address quarantined (imported as no address; a stored address stays), 1 row skipped."
        )
    )
    people = texts(page.locator("#import-files tbody tr").filter(has_text="people.csv"))
    assert people == ["people.csv 8 0 0 0"]
    assert texts(page.locator("#import-findings tbody tr")) == [
        "users.csv:4 agentSourcedIds 'u-x999' names no user in the bundle; skipped",
        f"users.csv:5 email rosa diaz@example.org {NOT_EMAIL}",
    ]

    page.goto("/people/u-p200")
    assert page.locator("#quarantined-email").inner_text() == (
        f"Quarantined at import: rosa diaz@example.org: {NOT_EMAIL} (users.csv:5, import 1)"
    )
    # The new addresses got the default grid: Wei Chen's e-mail has Emergency on, by the import.
    page.goto("/people/u-p201")
    email = texts(page.locator("#channels tbody tr").filter(has_text="wei.chen@example.org"))
    assert email[0].startswith("Email wei.chen@example.org On import Email: Emergency")
    assert email[0].count("Off default") == 7
