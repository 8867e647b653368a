"""Every page, signed in as each role, in Chromium: no serious or critical axe-core violation,
no sideways scrolling at 1280 or 390 pixels wide, and no script error (a script the page's
Content-Security-Policy refused is one). On the demo district, with a finished batch, a
schedule and a finished import to show."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from shared.batches.import_jobs import submit_import
from shared.core.contract import parse
from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.migrate import upgrade
from shared.filters.criteria import FilterRequest
from shared.filters.service import create_filter
from shared.imports.demo import load_demo
from shared.models import Calendar, Person, School, User
from shared.schedules.request import ScheduleRequest
from shared.schedules.service import create_schedule
from tests.support.browser import browser_page, serving, sign_in
from tests.support.driver import drain, run_batch
from tests.support.imports import native_zip
from tests.support.web import PASSWORD, add_user, make_app

# The elements that reach past the right edge (outside a table's own scroller), for the report.
WIDE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest(".table-scroll"))
    .slice(0, 12)
    .map((e) => `${e.tagName}#${e.id}.${e.className}`);
}"""
WIDTHS = (1280, 390)
SERIOUS = ("serious", "critical")
ROLES = ("admin", "school", "vera")


def pages(ids: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """Each page's path and the users who may open it."""
    person, batch = ids["person"], ids["batch"]
    return {
        "/batches/new": ("admin", "school"),
        "/batches": ROLES,
        f"/batches/{batch}": ROLES,
        f"/batches/{batch}/undo": ("admin", "school"),
        "/people?q=a": ROLES,
        f"/people/{person}": ROLES,
        "/schedules": ROLES,
        "/schedules/new": ("admin", "school"),
        f"/schedules/{ids['schedule']}": ROLES,
        "/imports": ("admin", "vera"),
        f"/imports/{ids['import']}": ("admin", "vera"),
        "/defaults": ROLES,
        "/reach": ROLES,
        "/filters": ROLES,
        "/filters/new": ("admin", "school"),
        f"/filters/{ids['filter']}": ("admin", "vera"),
        "/audit": ("admin",),
        "/users": ("admin",),
        "/users/school": ("admin",),
        "/nowhere": ROLES,
    }


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The app on SQLite (the embedded default's database), served on loopback."""
    tmp = tmp_path_factory.mktemp("pages")
    engine = make_engine(f"sqlite:///{tmp}/site.sqlite3")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        ids = _district(factory)
        with serving(make_app(factory, tmp)) as base:
            yield base, ids
    finally:
        engine.dispose()


def _district(factory: SessionFactory) -> dict[str, str]:
    today = datetime.now(UTC).date()
    with factory.begin() as session:
        load_demo(session, students=60, today=today)
        school = session.scalars(select(School.ext_id).order_by(School.ext_id)).first()
        calendar = session.scalars(
            select(Calendar.ext_id)
            .join(School, School.id == Calendar.school_id)
            .where(School.ext_id == school, Calendar.start_date <= today)
            .order_by(Calendar.start_date.desc())
        ).first()
    assert school is not None and calendar is not None
    add_user(factory, "admin", "district_admin")
    add_user(factory, "school", "school_admin", schools=[school])
    add_user(factory, "vera", "viewer")
    changes = {"email": {"emergency": "on"}, "householdPhone": {"attendance": "on"}}
    scope = {"calendarId": calendar}
    batch = run_batch(factory, {"mode": "studentContact", "scope": scope, "changes": changes})
    with factory.begin() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        request = ScheduleRequest.model_validate(
            {
                "name": "Start of year",
                "template": {"mode": "student", "scope": scope, "changes": changes},
                "rule": {"yearly": {"month": 8, "day": 1, "time": "02:00"}},
            }
        )
        schedule = create_schedule(session, request, user=admin, now=datetime.now(UTC))
        job, submitted = submit_import(
            session, fmt="native", filename="district.zip", data=native_zip(), user=admin,
            today=today, max_bytes=1 << 20,
        )  # fmt: skip
        person = session.scalars(
            select(Person.ext_id).where(Person.email.is_not(None)).order_by(Person.ext_id)
        ).first()
        saved = create_filter(
            session,
            parse(
                FilterRequest,
                {"name": "Grade 3", "kind": "student", "criteria": {"grades": ["03"]}},
            ),
            user=admin,
        )
        ids = {"batch": str(batch["id"]), "schedule": str(schedule.id), "import": str(job.id)}
        ids["filter"] = str(saved.id)
    drain(factory, list(submitted.messages), 100)
    return ids | {"person": str(person)}


def check(page: Any, path: str, axe: Any) -> list[str]:
    """What is wrong with the page at `path`: serious axe findings, sideways scrolling."""
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            wide = page.evaluate(WIDE)
            problems.append(f"{path} at {width} px scrolls sideways by {overflow} px: {wide}")
        if width == WIDTHS[0]:
            found = axe.run(page).response["violations"]
            problems += [
                f"{path}: {v['id']} ({v['impact']}): {v['nodes'][0]['target']}"
                for v in found
                if v["impact"] in SERIOUS
            ]
    return problems


@pytest.mark.parametrize("username", ROLES)
def test_every_page_is_accessible_and_fits(site: tuple[str, dict[str, str]], username: str):
    axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")
    base, ids = site
    errors: list[str] = []
    with browser_page(base) as page:
        page.on("pageerror", lambda error: errors.append(f"{page.url}: {error}"))
        page.on(
            "console",
            lambda message: (
                errors.append(f"{page.url}: {message.text}")
                if message.type == "error" and "404" not in message.text
                else None
            ),
        )
        problems = check(page, "/login", axe_module.Axe())
        page.goto("/login")
        sign_in(page, username, PASSWORD)
        page.wait_for_load_state()
        for path, roles in pages(ids).items():
            if username in roles:
                problems += check(page, path, axe_module.Axe())
    assert problems == [], "\n".join(problems)
    assert errors == [], "\n".join(errors)
