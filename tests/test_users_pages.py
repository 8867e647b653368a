"""The users pages' tokens, for district admins: shown once, kept as a digest, revoked for good,
and refused with the reason next to the form; other roles get 403, a post without CSRF 400, and
neither changes anything."""

import hashlib
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from shared.core.db import SessionFactory
from shared.models import ApiToken
from tests.support.users_pages import BEFORE, audit_rows, error_text, html, next_audit_id, users
from tests.support.users_pages import admin as admin  # the fixtures, for pytest to find here
from tests.support.users_pages import app as app
from tests.support.users_pages import factory as factory
from tests.support.web import Page, bearer, log_in

# --- tokens -----------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_kept_as_a_digest(
    app: Flask, admin: tuple[FlaskClient, str], factory: SessionFactory
):
    client, csrf = admin
    first = next_audit_id(factory)
    response = client.post("/users/vera/tokens", data={"csrf_token": csrf, "name": "reports"})

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    match = re.search(r'<code id="new-token">([^<]+)</code>', html(response))
    assert match is not None
    token = match.group(1)
    assert len(token) == 43
    assert "it will not be shown again" in html(response)
    with factory() as session:
        stored = session.execute(
            select(ApiToken.id, ApiToken.digest, ApiToken.name).order_by(ApiToken.id)
        ).all()
    assert stored[2:] == [(3, hashlib.sha256(token.encode()).hexdigest(), "reports")]
    shown_again = html(client.get("/users/vera"))
    assert token not in shown_again and 'id="new-token"' not in shown_again
    rows = Page(shown_again).tables["tokens"][1:]
    assert rows[0] == ["2", "", "2025-10-15 08:01:00 UTC", "never", "2025-10-16 09:30:00 UTC", ""]
    assert [row[:2] + row[3:] for row in rows[1:]] == [  # made just now
        ["3", "reports", "never", "no", "Revoke token 3"]
    ]

    api = app.test_client()
    assert api.get("/api/v1/batches", headers=bearer(token)).status_code == 200
    revoked = client.post("/users/vera/tokens/3/revoke", data={"csrf_token": csrf})
    assert (revoked.status_code, revoked.location) == (302, "/users/vera")
    assert "Token 3 is revoked." in html(client.get("/users/vera"))
    refused = api.get("/api/v1/batches", headers=bearer(token))
    assert refused.status_code == 401

    assert [row[:3] for row in audit_rows(factory, first)] == [
        ("admin", "token.create", "vera"),
        ("vera", "token.use", "vera"),
        ("admin", "token.revoke", "vera"),
        ("vera", "token.refused", "vera"),
    ]
    assert audit_rows(factory, first)[0][3] == {"tokenId": 3, "name": "reports"}
    assert audit_rows(factory, first)[2][3] == {"tokenId": 3}


def test_token_refusals(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, csrf = admin
    first = next_audit_id(factory)
    long_name = client.post("/users/vera/tokens", data={"csrf_token": csrf, "name": "x" * 101})
    twice = client.post("/users/vera/tokens/2/revoke", data={"csrf_token": csrf})
    not_hers = client.post("/users/vera/tokens/1/revoke", data={"csrf_token": csrf})
    nobody = client.post("/users/ghost/tokens", data={"csrf_token": csrf, "name": "x"})

    assert long_name.status_code == 400
    assert error_text(html(long_name), "token-error") == (
        "No token was created Token name: must be at most 100 characters"
    )
    assert Page(html(long_name)).inputs["name"]["value"] == "x" * 101
    assert twice.status_code == 409
    assert error_text(html(twice), "tokens-error") == (
        "Nothing was revoked token 2 was revoked already"
    )
    assert (not_hers.status_code, nobody.status_code) == (404, 404)
    assert "<code></code>: " not in html(not_hers)
    assert "&#39;vera&#39; has no token 1" in html(not_hers)
    assert audit_rows(factory, first) == []
    with factory() as session:
        assert session.execute(select(ApiToken.id, ApiToken.revoked_at.is_(None))).all() == [
            (1, True),
            (2, False),
        ]


# --- who may --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["sam", "vera"])
def test_only_a_district_admin_may(app: Flask, factory: SessionFactory, username: str):
    client = app.test_client()
    csrf = log_in(client, username)
    first = next_audit_id(factory)
    role = {"sam": "a school admin", "vera": "a viewer"}[username]

    answers = [
        client.get("/users"),
        client.get(f"/users/{username}"),
        client.post("/users", data={"csrf_token": csrf, "username": "x", "role": "viewer"}),
        client.post("/users/admin", data={"csrf_token": csrf, "role": "viewer"}),
        client.post("/users/admin/password", data={"csrf_token": csrf, "password": "x" * 9}),
        client.post("/users/sam/tokens", data={"csrf_token": csrf}),
        client.post("/users/sam/tokens/1/revoke", data={"csrf_token": csrf}),
    ]

    assert [answer.status_code for answer in answers] == [403] * 7
    assert f"only a district admin may do this; you are {role}" in html(answers[0])
    assert 'href="/users"' not in html(client.get("/batches"))
    assert users(factory) == BEFORE
    with factory() as session:
        assert session.scalars(select(ApiToken.revoked_at.is_(None))).all() == [True, False]
    # 403s are audited by the access layer; nothing about users or tokens is.
    actions = [row[1] for row in audit_rows(factory, first)]
    assert [action for action in actions if action.startswith(("user.", "token."))] == []


def test_a_post_without_csrf_is_refused(admin: tuple[FlaskClient, str], factory: SessionFactory):
    client, _ = admin
    first = next_audit_id(factory)
    answers = [
        client.post("/users", data={"username": "nina", "role": "viewer"}),
        client.post("/users/vera", data={"role": "district_admin"}),
        client.post("/users/vera/password", data={"password": "x" * 12}),
        client.post("/users/vera/tokens", data={"name": "x"}),
        client.post("/users/sam/tokens/1/revoke"),
    ]

    assert [answer.status_code for answer in answers] == [400] * 5
    assert "The CSRF token is missing." in html(answers[0])
    assert users(factory) == BEFORE
    assert audit_rows(factory, first) == []
    with factory() as session:
        assert session.scalar(select(ApiToken.id).order_by(ApiToken.id.desc())) == 2
