"""The JSON API under /api/v1 (SPEC section 5).

Who may call each endpoint is in web/access.py: every endpoint but /health needs a bearer token
or the login session. The API is exempt from the app-wide CSRF check because a bearer token
needs none (a browser never adds that header on its own); web/access.py checks the CSRF token
(`X-CSRFToken`) of a session caller's unsafe requests instead.
"""

from flask import Blueprint
from flask_wtf.csrf import CSRFProtect

from web.api import audit, batches, changes, filters, health, openapi, people


def make_api_blueprint(csrf: CSRFProtect) -> Blueprint:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    csrf.exempt(api)
    health.register(api)
    batches.register(api)
    changes.register(api)
    audit.register(api)
    people.register(api)
    filters.register(api)
    openapi.register(api)
    return api
