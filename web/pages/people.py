"""The preferences of one person: find them by id or name, see every value
with who set it, and record a guardian's or a clerk's choices. Editing follows the web flow:
validate and write (the service), commit, flash, redirect back; a refused edit is shown on the
page with a 400.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final, TypeVar

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from shared.access.reach import ensure_person_id_allowed
from shared.core.contract import parse
from shared.core.db import in_transaction
from shared.core.errors import InvalidRequest, NotFound
from shared.core.vocabulary import OPTIONS, REASONS
from shared.people.edit import (
    HOUSEHOLD_CHANNEL,
    SETTERS,
    HouseholdEdit,
    PersonEdit,
    edit_household_preferences,
    edit_person_preferences,
)
from shared.people.links import person_links
from shared.people.search import find_people
from shared.people.view import HouseholdMembership, HouseholdPreferences, person_preferences
from web.auth import db_user, require_principal
from web.labels import CHANNEL_LABELS, OPTION_LABELS, REASON_LABELS, field_label
from web.services import services
from web.wizard_form import change_control, changes_from_form

Edit = TypeVar("Edit", PersonEdit, HouseholdEdit)
MAX_HITS: Final = 50
SET_BY_LABELS: Final = {"guardian": "Guardian", "staff": "Staff"}
PERSON_FORM: Final = "person"


bp = Blueprint("people", __name__)


@bp.get("/people")
def search() -> str:
    query = request.args.get("q", "").strip()
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        hits = find_people(session, query, MAX_HITS + 1, user=user)
    return render_template(
        "people.html", q=query, hits=hits[:MAX_HITS], more=len(hits) > MAX_HITS, limit=MAX_HITS
    )


@bp.route("/people/<ext_id:person_id>", methods=["GET", "POST"])
def show(person_id: str) -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return _render(person_id)
    principal = require_principal()

    def edit(session: Session) -> None:
        ensure_person_id_allowed(session, db_user(session, principal), person_id)
        edit_person_preferences(
            session, person_id, _edit(PersonEdit, request.form), username=principal.username
        )

    try:
        in_transaction(services().session_factory, edit)
    except InvalidRequest as error:
        return _render(person_id, PERSON_FORM, error), 400
    flash("Saved")
    return redirect(url_for("people.show", person_id=person_id))


@bp.post("/people/<ext_id:person_id>/households/<ext_id:household_id>")
def edit_household(person_id: str, household_id: str) -> Response | str | tuple[str, int]:
    principal = require_principal()
    with services().session_factory() as session:
        # a household of a person the user may reach is within their reach too
        ensure_person_id_allowed(session, db_user(session, principal), person_id)
        households = {h.household_id for h in person_preferences(session, person_id).households}
    if household_id not in households:
        raise NotFound(f"person {person_id} is not a member of household {household_id!r}")
    try:
        with services().session_factory.begin() as session:
            edit_household_preferences(
                session,
                household_id,
                _edit(HouseholdEdit, request.form),
                username=principal.username,
            )
    except InvalidRequest as error:
        return _render(person_id, f"household:{household_id}", error), 400
    flash("Saved")
    return redirect(url_for("people.show", person_id=person_id))


def _edit(model: type[Edit], form: Mapping[str, str]) -> Edit:
    """The form as the PATCH body: controls are named `changes.<channel>.<reason>`."""
    payload = {"setBy": form.get("setBy", ""), "changes": changes_from_form(form)}
    return parse(model, payload)


def _render(
    person_id: str, error_form: str | None = None, error: InvalidRequest | None = None
) -> str:
    with services().session_factory() as session:
        ensure_person_id_allowed(session, db_user(session, require_principal()), person_id)
        person = person_preferences(session, person_id)
        links = person_links(session, person_id, services().today())
    return render_template(
        "person.html",
        person=person,
        links=links,
        members={h.household_id: h.members for h in links.households},
        households=_grouped(person.households),
        can_write=require_principal().can_write,
        error_form=error_form,
        error=error,
        error_label=_error_label(error),
        form=request.form if error is not None else {},
        channel_labels=CHANNEL_LABELS,
        household_channel=HOUSEHOLD_CHANNEL,
        reasons=[(reason, REASON_LABELS[reason]) for reason in REASONS],
        options=[(option, OPTION_LABELS[option]) for option in OPTIONS],
        set_by=[(value, SET_BY_LABELS[value]) for value in SETTERS],
        change_control=change_control,
    )


@dataclass(frozen=True)
class HouseholdCard:
    """A household as the page shows it: its phone's values, and the dates of each of the
    person's memberships in it."""

    household: HouseholdPreferences
    memberships: list[tuple[date | None, date | None]]


def _grouped(memberships: list[HouseholdMembership]) -> list[HouseholdCard]:
    cards: dict[str, HouseholdCard] = {}
    for membership in memberships:
        card = cards.setdefault(membership.household_id, HouseholdCard(membership, []))
        card.memberships.append((membership.start_date, membership.end_date))
    return list(cards.values())


def _error_label(error: InvalidRequest | None) -> str:
    if error is None:
        return ""
    return "Set by" if error.field == "setBy" else field_label(error.field)
