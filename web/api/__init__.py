"""The JSON API under /api/v1 (SPEC section 5).

Every endpoint but /health needs a bearer token or the login session. A request carrying a
bearer token is exempt from CSRF (a browser never adds that header on its own); a request
authenticated by the session cookie must send the CSRF token in `X-CSRFToken` when it changes
something.
"""

from flask import Blueprint, current_app, request
from flask_wtf.csrf import CSRFProtect
from werkzeug.exceptions import Unauthorized

from shared.accounts import user_for_token
from web.api import audit, batches, changes, filters, health, openapi, people
from web.auth import (
    SAFE_METHODS,
    Principal,
    ensure_can_write,
    require_principal,
    set_token_principal,
)
from web.services import services

PUBLIC_ENDPOINTS = frozenset({"api.health"})


def make_api_blueprint(csrf: CSRFProtect) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    csrf.exempt(api)  # checked in `authenticate` instead, once we know how the caller signed in
    api.before_request(authenticate)
    health.register(api)
    batches.register(api)
    changes.register(api)
    audit.register(api)
    people.register(api)
    filters.register(api)
    openapi.register(api)
    return api


def authenticate() -> None:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return
    header = request.headers.get("Authorization")
    if header is not None:
        principal = _token_principal(header)
        set_token_principal(principal)
    else:
        principal = require_principal()  # the login session
        current_app.extensions["csrf"].protect()  # checks unsafe methods only
    if request.method not in SAFE_METHODS:
        ensure_can_write(principal)


def _token_principal(header: str) -> Principal:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be: Bearer <token>")
    with services().session_factory() as session:
        user = user_for_token(session, token.strip())
        if user is None:
            raise Unauthorized("unknown token")
        return Principal.of(user)
