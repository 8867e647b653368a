"""Every page, signed in as each role, in Chromium: no serious or critical axe-core violation,
no sideways scrolling at 1280 or 390 pixels wide, and no script error (a script the page's
Content-Security-Policy refused is one). On the demo district, with a finished batch, a
schedule, a finished import and a saved filter to show (tests/support/demo_site.py)."""

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.browser import browser_page, sign_in
from tests.support.demo_site import demo_site
from tests.support.web import PASSWORD

# The elements that reach past the right edge (outside a table's own scroller), for the report.
WIDE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1 && !e.closest(".table-scroll"))
    .slice(0, 12)
    .map((e) => `${e.tagName}#${e.id}.${e.className}`);
}"""
# The tables wider than their scroller: at 1280 px every table is seen whole.
CUT_OFF = """() => [...document.querySelectorAll(".table-scroll")]
  .filter((e) => e.scrollWidth > e.clientWidth + 1)
  .map((e) => (e.querySelector("table") || e).id)"""
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
    with demo_site(tmp_path_factory.mktemp("pages")) as served:
        yield served


def missing_on_purpose(message: Any) -> bool:
    """The 404 of the page visited to see the 404 page, or of the browser's own request for
    /favicon.ico, which the product does not serve."""
    return str(message.location.get("url", "")).endswith(("/nowhere", "/favicon.ico"))


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
            cut = page.evaluate(CUT_OFF)
            if cut:
                problems.append(f"{path} at {width} px needs a table scrolled sideways: {cut}")
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
                if message.type == "error" and not missing_on_purpose(message)
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


def test_the_reach_page_shows_the_api_s_figures(site: tuple[str, dict[str, str]]):
    base, _ = site
    with browser_page(base) as page:
        page.goto("/login")
        sign_in(page, "admin", PASSWORD)
        page.goto("/reach?reason=attendance")
        report = page.request.get("/api/v1/reach").json()
        rows = [
            [cell.inner_text() for cell in row.locator("th, td").all()]
            for row in page.locator("#reach-schools tbody tr, #reach-schools tfoot tr").all()
        ]

        def share(count: int, of: int) -> str:
            return f"{count:,} ({round(100 * count / of)} %)" if of else f"{count:,} (–)"

        expected = []
        for school in [*report["schools"], {"name": "District", **report["district"]}]:
            n, figures = school["students"], school["reasons"]["attendance"]
            kinds = [share(figures[kind], n) for kind in ("phone", "email", "either")]
            expected.append([school["name"], f"{n:,}", *kinds, share(n - figures["either"], n)])
        assert rows == expected
        assert report["district"]["students"] > 0
        listed = page.request.get("/api/v1/reach/unreached.csv?reason=attendance").text()
        assert (
            len(listed.splitlines()) - 1
            == report["district"]["students"]
            - report["district"]["reasons"]["attendance"]["either"]
        )
