"""The JSON API under /api/v1: each module declares its endpoints on the route table
(web/api/routes.py), from which web/api/openapi.py writes the OpenAPI document.

Who may call each endpoint is in web/access.py: every endpoint but /health needs a bearer token
or the login session. The API is exempt from the app-wide CSRF check because a bearer token
needs none (a browser never adds that header on its own); web/access.py checks the CSRF token
(`X-CSRFToken`) of a session caller's unsafe requests instead.
"""

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

from web.api import (
    audit,
    batches,
    changes,
    filters,
    health,
    imports,
    openapi,
    people,
    reach,
    schedules,
)
from web.api.routes import api

MODULES = (
    health,
    batches,
    changes,
    audit,
    people,
    filters,
    schedules,
    imports,
    reach,
    openapi,
)  # each declares its routes


def api_blueprint(csrf: CSRFProtect) -> Blueprint:
    csrf.exempt(api.blueprint)
    return api.blueprint
