"""What the tests of the people pages share: their people, households and users (the `factory`
and `app` fixtures)."""

import pytest
from flask import Flask
from sqlalchemy import update

from shared.core.db import SessionFactory
from shared.core.vocabulary import CHANNELS
from shared.models import Person, preferences
from tests.support.district import District
from tests.support.web import add_user


@pytest.fixture
def factory(session_factory: SessionFactory) -> SessionFactory:
    """Ana Lima (P-1: email with emergency on, priority on by a guardian, attendance set by
    batch 3; cell phone) in H-1 (a phone) and H-2 (no phone); Bruno Lima (P-2), and Zed Zulu,
    whose id is "Lima"."""
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "vera", "viewer")
    with session_factory.begin() as session:
        d = District(session)
        ana = Person(
            ext_id="P-1",
            first_name="Ana",
            last_name="Lima",
            email="ana@example.org",
            cell_phone="555-0101",
        )
        bruno = Person(ext_id="P-2", first_name="Bruno", last_name="Lima")
        zed = Person(ext_id="Lima", first_name="Zed", last_name="Zulu")
        session.add_all([ana, bruno, zed])
        session.flush()
        home = d.household("H-1", phone="555-0100")
        d.member(home, ana)
        d.member(d.household("H-2"), ana)
        d.prefer(ana, "email", ["emergency", "priority"], guardian=("priority",))
        d.prefer(home, "householdPhone", ["emergency"])
        d.finish()
        email = preferences.c.channel == CHANNELS.index("email")
        session.execute(
            update(preferences)
            .where(preferences.c.subject_id == ana.id, email)
            .values(setter_attendance=3)
        )
    return session_factory


@pytest.fixture
def app(factory: SessionFactory, app: Flask) -> Flask:
    """The shared app, after `factory`'s data."""
    return app
