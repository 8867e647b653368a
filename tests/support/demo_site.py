"""A small site for the browser tests and the README's screenshots: the demo district on
SQLite (the embedded default's database) with a finished batch, a schedule, a finished import
and a saved filter, and its users (admin, school: a school admin, vera: a viewer), served on
loopback."""

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

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
from tests.support.browser import serving
from tests.support.driver import drain, run_batch
from tests.support.imports import native_zip
from tests.support.web import add_user, make_app


@contextlib.contextmanager
def demo_site(folder: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """The site's base URL, and the ids of what it shows (batch, schedule, import, filter,
    person)."""
    engine = make_engine(f"sqlite:///{folder}/site.sqlite3")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        ids = _district(factory)
        with serving(make_app(factory, folder)) as base:
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
