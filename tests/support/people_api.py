"""What the tests of the PATCH routes of preferences share: P-1 in H-1, admin and the viewer vera
(the `factory` and `app` fixtures, or `add_people` on a factory of one's own), a PATCH, and
admin's bearer header."""

import json
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from tests.support.district import District
from tests.support.web import add_token, add_user, bearer


@pytest.fixture
def factory(session_factory: SessionFactory) -> SessionFactory:
    return add_people(session_factory)


def add_people(session_factory: SessionFactory) -> SessionFactory:
    """P-1 (email with emergency on; a cell phone) in H-1 (a phone, emergency on); admin and
    the viewer vera."""
    add_user(session_factory, "admin", "district_admin")
    add_user(session_factory, "vera", "viewer")
    with session_factory.begin() as session:
        d = District(session)
        mother = d.person("P-1", email="ana@example.org", cell_phone="555-0101")
        home = d.household("H-1", phone="555-0100")
        d.member(home, mother)
        d.prefer(mother, "email", ["emergency"])
        d.prefer(home, "householdPhone", ["emergency"])
        d.finish()
    return session_factory


@pytest.fixture
def app(factory: SessionFactory, app: Flask) -> Flask:
    """The shared app, after `factory`'s data."""
    return app


def patch(client: FlaskClient, path: str, body: Any, headers: dict[str, str]) -> Any:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.patch(
        f"/api/v1{path}", data=data, content_type="application/json", headers=headers
    )


def admin(factory: SessionFactory) -> dict[str, str]:
    return bearer(add_token(factory, "admin"))
