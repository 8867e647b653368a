"""The people page's search: by id and by name, an empty search, at most 50 people listed, and
the pages need a login."""

from flask.testing import FlaskClient

from shared.core.db import SessionFactory
from shared.models import Person
from tests.support.people_pages import app as app  # the fixtures, for pytest to find here
from tests.support.people_pages import factory as factory
from tests.support.web import Page


def search(client: FlaskClient, query: str) -> list[list[str]]:
    response = client.get("/people", query_string={"q": query})
    assert response.status_code == 200
    return Page(response.get_data(as_text=True)).tables.get("people", [])


def test_search_by_id_and_by_name(client: FlaskClient, csrf: str):
    assert search(client, "P-1") == [["Person id", "Name"], ["P-1", "Ana Lima"]]
    # The exact id first, then the names containing the text, ignoring case, by last name.
    assert search(client, "Lima") == [
        ["Person id", "Name"],
        ["Lima", "Zed Zulu"],
        ["P-1", "Ana Lima"],
        ["P-2", "Bruno Lima"],
    ]
    assert search(client, "ana li") == [["Person id", "Name"], ["P-1", "Ana Lima"]]
    assert search(client, "ZULU") == [["Person id", "Name"], ["Lima", "Zed Zulu"]]
    assert search(client, "%") == []  # a LIKE wildcard is a plain character

    html = client.get("/people?q=P-1").get_data(as_text=True)
    assert '<a href="/people/P-1">P-1</a>' in html
    assert "1 person matching “P-1”" in html
    nothing = client.get("/people?q=nobody").get_data(as_text=True)
    assert "No person has the id “nobody” or a name containing it." in nothing


def test_an_empty_search_shows_just_the_form(client: FlaskClient, csrf: str):
    response = client.get("/people")
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert page.tables == {}
    assert page.label_for["q"] == "Person id or name"
    assert page.buttons[-1] == (None, None, "Search")
    assert '<a href="/people" aria-current="page">People</a>' in response.get_data(as_text=True)


def test_search_lists_at_most_50(client: FlaskClient, csrf: str, factory: SessionFactory):
    with factory.begin() as session:
        session.add_all(
            Person(ext_id=f"M-{n:02}", first_name="Many", last_name=f"M{n:02}") for n in range(51)
        )
    rows = search(client, "many")
    assert len(rows) == 1 + 50
    assert rows[1:3] == [["M-00", "Many M00"], ["M-01", "Many M01"]]
    assert rows[-1] == ["M-49", "Many M49"]
    html = client.get("/people?q=many").get_data(as_text=True)
    assert "The first 50 people matching “many”: narrow the search to see the rest" in html


def test_the_pages_need_a_login(client: FlaskClient):
    for path in ("/people", "/people/P-1"):
        response = client.get(path)
        assert (response.status_code, response.headers["Location"]) == (
            302,
            f"/login?next=%2Fpeople{path.removeprefix('/people').replace('/', '%2F')}",
        )
