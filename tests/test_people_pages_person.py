"""One person's page: their values and setters, and editing them and their households' phones
through the form (CSRF, flash and redirect, errors on the page; no form for a viewer)."""

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import AuditEntry
from shared.people.view import household_preferences, person_preferences
from tests.support.people_pages import app as app  # the fixtures, for pytest to find here
from tests.support.people_pages import factory as factory
from tests.support.web import Page, log_in
from tests.support.web_pages import REASON_LABELS

HEAD = ["Channel", "Address", *REASON_LABELS]
NEVER_SET = ["Off default"] * 8


class PersonPage(Page):
    """Table cells without the text of the selects and labels in them: "On guardian"."""

    def handle_data(self, data: str) -> None:
        if self._select is None and self._label is None:
            super().handle_data(data)
            return
        cell, self._cell = self._cell, None
        super().handle_data(data)
        self._cell = cell


def edits(factory: SessionFactory) -> list[tuple[str | None, str | None, Any]]:
    with factory() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.subject, AuditEntry.detail)
            .where(AuditEntry.action == "preferences.edit")
            .order_by(AuditEntry.id)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_the_person_page_shows_values_and_setters(client: FlaskClient, csrf: str):
    response = client.get("/people/P-1")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    page = PersonPage(html)

    assert page.tables["channels"] == [
        HEAD,
        ["Home Phone", "none", *NEVER_SET],
        ["Work Phone", "none", *NEVER_SET],
        ["Cell Phone", "555-0101", *NEVER_SET],
        [
            "Email",
            "ana@example.org",
            "On import",
            "Off batch 3",
            "Off import",
            "Off import",
            "Off import",
            "Off import",
            "On guardian",
            "Off import",
        ],
        ["Secondary Email", "none", *NEVER_SET],
    ]
    assert '<a href="/batches/3">batch 3</a>' in html
    assert page.tables["household-1-table"] == [
        HEAD,
        ["Household Phone", "555-0100", "On import", *["Off import"] * 7],
    ]
    assert page.tables["household-2-table"] == [HEAD, ["Household Phone", "none", *NEVER_SET]]
    assert '<h3 id="household-1-heading">Household H-1 (H-1)</h3>' in html

    # A select per reason of each channel with an address, and one per household with a phone.
    person_selects = [s["id"] for s in page.selects.values() if s["id"].startswith("changes.")]
    assert person_selects == [
        f"changes.{channel}.{reason}"
        for channel in ("cellPhone", "email")
        for reason in ("emergency", "attendance", "behavior", "staff", "general")
        + ("foodService", "priority", "teacher")
    ]
    assert page.options("changes.email.emergency") == [
        ("noChange", "No Change"),
        ("on", "On"),
        ("off", "Off"),
    ]
    assert page.selected("changes.email.emergency") == "noChange"
    assert page.label_for["changes.email.behavior"] == "Email: Behavior Messenger"
    assert page.label_for["household-1-changes.householdPhone.staff"] == (
        "Household Phone of Household H-1: Staff"
    )
    assert "household-2-changes.householdPhone.staff" not in page.label_for
    assert page.options("setBy") == [("guardian", "Guardian"), ("staff", "Staff")]
    assert page.label_for["setBy"] == page.label_for["household-1-setBy"] == "Set by"
    assert [text for _, _, text in page.buttons][-2:] == ["Save", "Save the household phone"]
    assert page.inputs["csrf_token"]["type"] == "hidden"


def test_an_unknown_person_is_404(client: FlaskClient, csrf: str):
    response = client.get("/people/P-9")
    assert response.status_code == 404
    assert "No person &#39;P-9&#39;. It may have been removed" in response.get_data(as_text=True)


def test_editing_through_the_form(client: FlaskClient, csrf: str, factory: SessionFactory):
    form = {
        "csrf_token": csrf,
        "setBy": "guardian",
        "changes.email.emergency": "off",
        "changes.email.attendance": "noChange",
        "changes.cellPhone.teacher": "on",
    }
    response = client.post("/people/P-1", data=form)
    assert (response.status_code, response.headers["Location"]) == (302, "/people/P-1")

    shown = client.get("/people/P-1").get_data(as_text=True)
    assert '<p class="notice" role="status">Saved</p>' in shown
    rows = PersonPage(shown).tables["channels"]
    assert rows[3] == ["Cell Phone", "555-0101", *NEVER_SET[:7], "On guardian"]
    assert rows[4][2:5] == ["Off guardian", "Off batch 3", "Off import"]
    changes = {"cellPhone": {"teacher": "on"}, "email": {"emergency": "off"}}
    assert edits(factory) == [("admin", "person:P-1", {"setBy": "guardian", "changes": changes})]


def test_editing_a_household_phone(client: FlaskClient, csrf: str, factory: SessionFactory):
    form = {"csrf_token": csrf, "setBy": "staff", "changes.householdPhone.general": "on"}
    response = client.post("/people/P-1/households/H-1", data=form)
    assert (response.status_code, response.headers["Location"]) == (302, "/people/P-1")

    page = PersonPage(client.get("/people/P-1").get_data(as_text=True))
    assert page.tables["household-1-table"][1][2:7] == [
        "On import",
        "Off import",
        "Off import",
        "Off import",
        "On staff",
    ]
    with factory() as session:
        assert household_preferences(session, "H-1").setters.general == "staff"


def test_a_refused_edit_is_shown_on_the_page(
    client: FlaskClient, csrf: str, factory: SessionFactory
):
    with factory() as session:
        before = person_preferences(session, "P-1")
    form = {"csrf_token": csrf, "setBy": "", "changes.email.general": "on"}
    response = client.post("/people/P-1", data=form)

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    page = PersonPage(html)
    assert "person-error" in page.ids
    assert (
        "<p><strong>Set by</strong>: must be one of guardian, staff; got &#39;&#39;</p>"
    ) in html
    assert page.selected("changes.email.general") == "on"  # what was chosen stays chosen
    assert page.selected("changes.email.emergency") == "noChange"

    no_address = {"csrf_token": csrf, "setBy": "staff", "changes.workPhone.staff": "on"}
    refused = client.post("/people/P-1", data=no_address)
    assert refused.status_code == 400
    assert ("<p><strong>Work Phone</strong>: person P-1 has no workPhone</p>") in refused.get_data(
        as_text=True
    )

    household = {"csrf_token": csrf, "setBy": "staff", "changes.householdPhone.staff": "on"}
    no_phone = client.post("/people/P-1/households/H-2", data=household)
    assert no_phone.status_code == 400
    no_phone_page = PersonPage(no_phone.get_data(as_text=True))
    assert "household-2-error" in no_phone_page.ids
    assert "person-error" not in no_phone_page.ids
    assert "household H-2 has no householdPhone" in no_phone.get_data(as_text=True)

    not_a_member = client.post("/people/P-2/households/H-1", data=household)
    assert not_a_member.status_code == 404

    with factory() as session:
        assert person_preferences(session, "P-1") == before
    assert edits(factory) == []


def test_a_post_without_the_csrf_token_is_refused(client: FlaskClient, csrf: str, factory):
    response = client.post("/people/P-1", data={"setBy": "staff", "changes.email.staff": "on"})
    assert response.status_code == 400
    assert edits(factory) == []


def test_a_viewer_sees_no_form_and_may_not_post(client: FlaskClient, factory: SessionFactory):
    csrf = log_in(client, "vera")
    response = client.get("/people/P-1")
    assert response.status_code == 200
    page = PersonPage(response.get_data(as_text=True))
    assert page.selects == {}
    assert page.buttons == [(None, None, "Sign out")]
    assert page.tables["channels"][4][8] == "On guardian"

    for path in ("/people/P-1", "/people/P-1/households/H-1"):
        form = {"csrf_token": csrf, "setBy": "staff", "changes.email.staff": "on"}
        refused = client.post(path, data=form)
        assert refused.status_code == 403
        assert (
            "only a district admin or a school admin may do this; you are a viewer"
            in refused.get_data(as_text=True)
        )
    assert edits(factory) == []
