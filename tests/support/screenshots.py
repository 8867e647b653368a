"""Screenshots of the main pages for the README, made in Chromium on the browser tests' demo
site (tests/support/demo_site.py), signed in as the district admin, 1280 pixels wide:

    make screenshots    # or: .venv/bin/python -m tests.support.screenshots

writes docs/screenshots/*.png (the README shows them).
"""

import tempfile
from pathlib import Path
from typing import Final

from tests.support.browser import browser_page, sign_in
from tests.support.demo_site import demo_site
from tests.support.processes import REPO_ROOT
from tests.support.web import PASSWORD

OUT: Final = REPO_ROOT / "docs" / "screenshots"
PAGES: Final = {
    "wizard": "/batches/new",
    "batch": "/batches/{batch}",
    "history": "/batches",
    "reach": "/reach",
    "filter": "/filters/{filter}",
    "person": "/people/{person}",
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cpb-screens-") as folder:
        with demo_site(Path(folder)) as (base, ids), browser_page(base, 20_000) as page:
            page.set_viewport_size({"width": 1280, "height": 900})
            page.goto("/login")
            sign_in(page, "admin", PASSWORD)
            page.wait_for_load_state()
            for name, path in PAGES.items():
                page.goto(path.format(**ids))
                page.wait_for_load_state("networkidle")
                target = OUT / f"{name}.png"
                page.screenshot(path=str(target), full_page=False)
                print(f"wrote {target.relative_to(REPO_ROOT)}")


if __name__ == "__main__":
    main()
