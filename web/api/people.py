"""One person's preferences (read and edit), a household's (edit), and the export of every
preference as CSV."""

from collections.abc import Iterator

from flask import Response
from sqlalchemy.orm import Session

from shared.access.reach import ensure_household_id_allowed, ensure_person_id_allowed
from shared.core.db import in_transaction, read_session
from shared.people import edit, view
from shared.people.edit import HouseholdEdit, PersonEdit
from shared.people.export import iter_preferences_csv
from shared.people.view import HouseholdPreferences, PersonPreferences
from web.api.routes import CSV, api
from web.auth import db_user, require_principal
from web.services import services


@api.get(
    "/people/<ext_id:person_id>/preferences",
    summary="A person's addresses and preference values, and their households'",
    response=PersonPreferences,
)
def person_preferences(person_id: str) -> PersonPreferences:
    with services().session_factory() as session:
        ensure_person_id_allowed(session, db_user(session, require_principal()), person_id)
        return view.person_preferences(session, person_id)


@api.patch(
    "/people/<ext_id:person_id>/preferences",
    summary="Record a guardian's or a clerk's choices for the person's channels",
    body=PersonEdit,
    response=PersonPreferences,
)
def edit_person_preferences(person_id: str, body: PersonEdit) -> PersonPreferences:
    principal = require_principal()

    def write(session: Session) -> PersonPreferences:
        ensure_person_id_allowed(session, db_user(session, principal), person_id)
        edit.edit_person_preferences(session, person_id, body, username=principal.username)
        return view.person_preferences(session, person_id)

    return in_transaction(services().session_factory, write)


@api.patch(
    "/households/<ext_id:household_id>/preferences",
    summary="Record a guardian's or a clerk's choices for a household phone",
    body=HouseholdEdit,
    response=HouseholdPreferences,
)
def edit_household_preferences(household_id: str, body: HouseholdEdit) -> HouseholdPreferences:
    principal = require_principal()
    with services().session_factory.begin() as session:
        ensure_household_id_allowed(session, db_user(session, principal), household_id)
        edit.edit_household_preferences(session, household_id, body, username=principal.username)
        return view.household_preferences(session, household_id)


@api.get(
    "/preferences.csv",
    summary="Every preference, streamed as CSV: one row per subject and channel with an "
    "address (the format of the import's preferences.csv)",
    response=CSV,
)
def preferences_csv() -> Response:
    session_factory = services().session_factory

    def lines() -> Iterator[str]:
        # The session lives as long as the stream: rows are read while they are sent, in a
        # read-only session, so a slow download never holds up a writer.
        with read_session(session_factory) as session:
            yield from iter_preferences_csv(session)

    return Response(
        lines(),
        mimetype=CSV,
        headers={"Content-Disposition": 'attachment; filename="preferences.csv"'},
    )
