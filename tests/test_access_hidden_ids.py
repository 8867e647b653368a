"""A school admin cannot tell a person or household of another school from one that does not
exist: both are the same 404, word for word apart from the id (the refusal is still audited).
And district ids holding `/` are reached at their pages and API paths like any other."""

from typing import Any

import pytest
from flask import Flask

from shared.core.db import SessionFactory
from tests.support.access import Setup, call
from tests.support.access import setup as setup  # the fixture, for pytest to find here
from tests.support.district import District
from tests.support.web import PASSWORD, add_user, error_of, log_in, make_app

EDIT = {"setBy": "staff", "changes": {"email": {"general": "on"}}}
HOUSEHOLD = {"setBy": "staff", "changes": {"householdPhone": {"general": "on"}}}


def answer(response: Any) -> tuple[int, str]:
    return response.status_code, error_of(response)["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "what"),
    [
        ("GET", "/api/v1/people/{}/preferences", None, "person"),
        ("PATCH", "/api/v1/people/{}/preferences", EDIT, "person"),
        ("PATCH", "/api/v1/households/{}/preferences", HOUSEHOLD, "household"),
    ],
)
def test_the_api_answers_another_school_as_nobody(
    setup: Setup, method: str, path: str, body: Any, what: str
):
    api = setup.api("north")
    theirs, nobody = ("s1", "zz9") if what == "person" else ("h2", "hh9")
    assert answer(call(api, method, path.format(theirs), json=body)) == (
        404,
        f"no {what} {theirs!r}",
    )
    assert answer(call(api, method, path.format(nobody), json=body)) == (
        404,
        f"no {what} {nobody!r}",
    )
    # the district admin is told the truth about the same ids
    assert call(setup.api("ada"), "GET", "/api/v1/people/s1/preferences").status_code == 200
    assert [detail["reason"] for _, _, detail in setup.refusals()] == [
        f"{what} {theirs} is not in your schools"
    ]


def test_the_pages_answer_another_school_as_nobody(setup: Setup):
    client, token = setup.signed_in("north")
    for theirs, nobody in (("s1", "zz9"), ("g2", "zz8")):
        seen = client.get(f"/people/{theirs}"), client.get(f"/people/{nobody}")
        assert [r.status_code for r in seen] == [404, 404]
        assert f"No person &#39;{theirs}&#39;." in seen[0].text
        assert f"No person &#39;{nobody}&#39;." in seen[1].text
        form = {"csrf_token": token, "setBy": "staff"}
        posted = (
            client.post(f"/people/{theirs}", data=form),
            client.post(f"/people/{nobody}", data=form),
        )
        assert [r.status_code for r in posted] == [404, 404]
    household = client.post("/people/g2/households/h2", data={"csrf_token": token})
    assert household.status_code == 404


@pytest.mark.parametrize("person_id", ["P/1", "2025/26/7", "a%2Fb", "/lead", "a/b/c/d"])
def test_ids_with_slashes_are_reached(session_factory: SessionFactory, tmp_path, person_id: str):
    with session_factory.begin() as session:
        d = District(session)
        person = d.person(person_id, email="p@example.org")
        d.member(d.household("H/1", phone="555-0100"), person)
        d.finish()
    add_user(session_factory, "admin", "district_admin")
    app: Flask = make_app(session_factory, tmp_path)
    client = app.test_client()
    token = log_in(client, "admin", PASSWORD)
    found = client.get("/people", query_string={"q": person_id}).text
    quoted = person_id.replace("%", "%25")
    assert f'href="/people/{quoted}"' in found
    page = client.get(f"/people/{quoted}")
    assert page.status_code == 200
    assert f"({person_id})</h1>" in page.text
    edit = {"csrf_token": token, "setBy": "staff", "changes.email.general": "on"}
    saved = client.post(f"/people/{quoted}", data=edit)
    assert (saved.status_code, saved.headers["Location"]) == (302, f"/people/{quoted}")
    household = client.post(
        f"/people/{quoted}/households/H/1",
        data={"csrf_token": token, "setBy": "staff", "changes.householdPhone.general": "on"},
    )
    assert household.status_code == 302
    api = client.get(f"/api/v1/people/{quoted}/preferences")
    assert (api.status_code, api.get_json()["personId"]) == (200, person_id)
    assert api.get_json()["channels"]["email"]["values"]["general"] is True
    patched = client.patch(
        "/api/v1/households/H/1/preferences", json=HOUSEHOLD, headers={"X-CSRFToken": token}
    )
    assert patched.status_code == 200
