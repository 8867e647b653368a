"""One person's preferences, and the export of every preference as CSV."""

from collections.abc import Iterator
from typing import Any

from flask import Blueprint, Response

from shared.export import iter_preferences_csv
from shared.person_view import person_preferences
from web.services import services


def register(api: Blueprint) -> None:
    api.add_url_rule(
        "/people/<person_id>/preferences", "person_preferences", person_preferences_,
        methods=["GET"],
    )  # fmt: skip
    api.add_url_rule("/preferences.csv", "preferences_csv", preferences_csv, methods=["GET"])


def person_preferences_(person_id: str) -> dict[str, Any]:
    with services().session_factory() as session:
        return person_preferences(session, person_id)


def preferences_csv() -> Response:
    session_factory = services().session_factory

    def lines() -> Iterator[str]:
        # The session lives as long as the stream: rows are read while they are sent.
        with session_factory() as session:
            yield from iter_preferences_csv(session)

    return Response(
        lines(),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="preferences.csv"'},
    )
