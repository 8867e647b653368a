"""One person's preferences (read and edit), a household's (edit), and the export of every
preference as CSV."""

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response
from sqlalchemy.orm import Session

from shared.access.reach import ensure_household_id_allowed, ensure_person_id_allowed
from shared.core.db import in_transaction, read_session
from shared.people.edit import edit_household_preferences, edit_person_preferences
from shared.people.export import iter_preferences_csv
from shared.people.view import household_preferences, person_preferences
from web.auth import db_user, require_principal
from web.params import json_object_body
from web.services import services


def register(api: Blueprint) -> None:
    api.add_url_rule(
        "/people/<person_id>/preferences", "person_preferences", person_preferences_,
        methods=["GET"],
    )  # fmt: skip
    api.add_url_rule(
        "/people/<person_id>/preferences", "edit_person_preferences", edit_person,
        methods=["PATCH"],
    )  # fmt: skip
    api.add_url_rule(
        "/households/<household_id>/preferences", "edit_household_preferences", edit_household,
        methods=["PATCH"],
    )  # fmt: skip
    api.add_url_rule("/preferences.csv", "preferences_csv", preferences_csv, methods=["GET"])


def person_preferences_(person_id: str) -> dict[str, Any]:
    with services().session_factory() as session:
        ensure_person_id_allowed(session, db_user(session, require_principal()), person_id)
        return person_preferences(session, person_id)


def edit_person(person_id: str) -> dict[str, Any]:
    payload = json_object_body()
    principal = require_principal()

    def edit(session: Session) -> dict[str, Any]:
        ensure_person_id_allowed(session, db_user(session, principal), person_id)
        edit_person_preferences(session, person_id, payload, username=principal.username)
        return person_preferences(session, person_id)

    return in_transaction(services().session_factory, edit)


def edit_household(household_id: str) -> dict[str, Any]:
    payload = json_object_body()
    principal = require_principal()
    with services().session_factory.begin() as session:
        ensure_household_id_allowed(session, db_user(session, principal), household_id)
        edit_household_preferences(session, household_id, payload, username=principal.username)
        return household_preferences(session, household_id)


def preferences_csv() -> Response:
    session_factory = services().session_factory

    def lines() -> Iterator[str]:
        # The session lives as long as the stream: rows are read while they are sent, in a
        # read-only session, so a slow download never holds up a writer.
        with read_session(session_factory) as session:
            yield from iter_preferences_csv(session)

    return Response(
        lines(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="preferences.csv"'},
    )
