"""A school admin submits batches within their schools, by calendar or by school and with a
filter of their own; through the wizard, a batch over the whole district is refused with the
reason shown next to the form."""

from tests.support.access import Setup, submit
from tests.support.access import setup as setup  # the fixture, for pytest to find here
from tests.support.web import Page


def test_a_school_admin_submits_within_their_schools(setup: Setup):
    changes = {"email": {"general": "on"}}
    for scope in ({"calendarId": "CAL-N"}, {"schoolId": "N", "schoolYear": "2025-26"}):
        body = {"mode": "studentContact", "scope": scope, "changes": changes}
        assert submit(setup, body).status_code == 202
    own = {"mode": "student", "scope": {"calendarId": "CAL-N"}, "filterId": setup.ids["own_filter"]}
    assert submit(setup, own | {"changes": changes, "dryRun": True}).status_code == 202
    assert setup.refusals() == []


def test_the_wizard_shows_a_school_admin_why_a_batch_was_refused(setup: Setup):
    client, token = setup.signed_in("north")
    form = {
        "csrf_token": token,
        "mode": "student",
        "schoolYear": "2025-26",
        "asOf": "2025-10-15",
        "changes.email.general": "on",
        "action": "apply",
    }
    response = client.post("/batches/new", data=form)
    reason = "a batch over the whole district needs a district admin; name your school"
    assert response.status_code == 403
    html = response.get_data(as_text=True)
    assert "The batch was not submitted" in html
    assert "Choose your school: only a district admin may update the whole district." in html
    assert 'id="wizard"' in html  # the form again, with the choices kept
    assert setup.refusals() == [("north", "POST /batches/new", {"reason": reason})]


def test_a_school_admin_s_wizard_starts_in_their_school(setup: Setup):
    client, _ = setup.signed_in("north")
    page = Page(client.get("/batches/new").get_data(as_text=True))
    assert (page.selected("schoolId"), page.selected("schoolYear")) == ("N", "2025-26")
    assert [value for value, _ in page.radios["mode"]] == ["studentContact", "student"]
