"""Who may call what: the one place where every endpoint of the app, pages and API alike, names
the roles that may use it, per method (README.md, "Who may do what").

`enforce_access` runs before every request. It finds the caller (a bearer token on the API, else
the login session), answers 401 (API) or the sign-in page (pages) when there is none, and 403
when the caller's role is not among the endpoint's roles. An endpoint without a rule is refused:
a route added without one never opens by mistake, and a test lists every route and fails on it.
What a role may do *within* an endpoint (a school admin's own schools and filters) is decided by
the services, with shared/access/reach.py.
"""

import logging
from typing import Final

from flask import Flask, current_app, request
from flask_login import current_user
from werkzeug.exceptions import Unauthorized
from werkzeug.wrappers import Response

from shared.access.audit import record_audit
from shared.access.tokens import record_token_refused, record_token_use, token_user
from shared.core.errors import Forbidden
from shared.core.vocabulary import ROLES
from web.auth import Principal, current_principal, set_token_principal
from web.request_log import bind_user
from web.services import services

log = logging.getLogger(__name__)

ACTION_ACCESS_DENIED: Final = "access.denied"
Roles = frozenset[str]
PUBLIC: Final = frozenset({"*"})  # no sign-in needed
SIGNED_IN: Final[Roles] = frozenset(ROLES)
WRITERS: Final[Roles] = frozenset({"district_admin", "school_admin"})
DISTRICT_READERS: Final[Roles] = frozenset({"district_admin", "viewer"})
DISTRICT_ADMINS: Final[Roles] = frozenset({"district_admin"})
METRICS: Final = "metrics"  # GET /metrics (web/metrics.py)

# endpoint -> method -> the roles that may call it
RULES: Final[dict[str, dict[str, Roles]]] = {
    "static": {"GET": PUBLIC},
    "auth.login": {"GET": PUBLIC, "POST": PUBLIC},
    "auth.logout": {"POST": SIGNED_IN},
    "api.health": {"GET": PUBLIC},
    "api.health_live": {"GET": PUBLIC},
    "api.health_ready": {"GET": PUBLIC},
    # Prometheus's scrape: a district admin's token (as the API takes it); public when
    # CPB_METRICS_OPEN=true (see rule_for)
    METRICS: {"GET": DISTRICT_ADMINS},
    "api.openapi": {"GET": SIGNED_IN},
    # batches: a school admin's are limited to their schools by the services
    "api.submit_batch": {"POST": WRITERS},
    "api.list_batches": {"GET": SIGNED_IN},
    "api.get_batch": {"GET": SIGNED_IN},
    "api.batch_changes_csv": {"GET": SIGNED_IN},
    "api.batch_result_csv": {"GET": SIGNED_IN},
    "api.undo_batch": {"POST": WRITERS},
    "api.cancel_batch": {"POST": WRITERS},
    "api.apply_batch": {"POST": WRITERS},
    # filters: a school admin's are their own, by the services
    "api.list_filters": {"GET": SIGNED_IN},
    "api.create_filter": {"POST": WRITERS},
    "api.get_filter": {"GET": SIGNED_IN},
    "api.update_filter": {"PUT": WRITERS},
    "api.delete_filter": {"DELETE": WRITERS},
    "api.preview_saved_filter": {"POST": SIGNED_IN},
    "api.preview_criteria": {"POST": SIGNED_IN},
    # schedules: a school admin's lie within their schools, by the services
    "api.list_schedules": {"GET": SIGNED_IN},
    "api.create_schedule": {"POST": WRITERS},
    "api.get_schedule": {"GET": SIGNED_IN},
    "api.update_schedule": {"PATCH": WRITERS},
    "api.delete_schedule": {"DELETE": WRITERS},
    "api.list_schedule_runs": {"GET": SIGNED_IN},
    "api.run_schedule": {"POST": WRITERS},
    "api.person_preferences": {"GET": SIGNED_IN},
    "api.edit_person_preferences": {"PATCH": WRITERS},
    "api.edit_household_preferences": {"PATCH": WRITERS},
    "api.preferences_csv": {"GET": DISTRICT_READERS},  # the whole district
    "api.list_audit": {"GET": DISTRICT_ADMINS},
    # imports change the whole district; their reports name addresses of the whole district
    "api.create_import": {"POST": DISTRICT_ADMINS},
    "api.list_imports": {"GET": DISTRICT_READERS},
    "api.get_import": {"GET": DISTRICT_READERS},
    "api.import_quarantine_csv": {"GET": DISTRICT_READERS},
    "api.get_defaults": {"GET": SIGNED_IN},
    "api.put_defaults": {"PUT": DISTRICT_ADMINS},
    # reach: a school admin's figures cover their schools, by the service
    "api.get_reach": {"GET": SIGNED_IN},
    "api.unreached_csv": {"GET": SIGNED_IN},
    "reach.page": {"GET": SIGNED_IN},
    # the filter designer: a school admin's filters are their own, by the services
    "filters.index": {"GET": SIGNED_IN},
    "filters.new": {"GET": WRITERS, "POST": WRITERS},
    "filters.edit": {"GET": SIGNED_IN, "POST": WRITERS},
    "filters.delete": {"POST": WRITERS},
    "imports.index": {"GET": DISTRICT_READERS, "POST": DISTRICT_ADMINS},
    "imports.show": {"GET": DISTRICT_READERS},
    "imports.defaults": {"GET": SIGNED_IN, "POST": DISTRICT_ADMINS},
    "batches.home": {"GET": SIGNED_IN},
    "batches.history": {"GET": SIGNED_IN},
    "batches.show": {"GET": SIGNED_IN},
    "batches.undo": {"GET": WRITERS, "POST": WRITERS},
    "batches.cancel": {"POST": WRITERS},
    "batches.apply": {"POST": WRITERS},
    "wizard.new_batch": {"GET": WRITERS, "POST": WRITERS},
    "people.search": {"GET": SIGNED_IN},
    "people.show": {"GET": SIGNED_IN, "POST": WRITERS},
    "people.edit_household": {"POST": WRITERS},
    "audit.log": {"GET": DISTRICT_ADMINS},
    "users.index": {"GET": DISTRICT_ADMINS, "POST": DISTRICT_ADMINS},
    "users.show": {"GET": DISTRICT_ADMINS, "POST": DISTRICT_ADMINS},
    "users.set_password": {"POST": DISTRICT_ADMINS},
    "users.create_token": {"POST": DISTRICT_ADMINS},
    "users.revoke_token": {"POST": DISTRICT_ADMINS},
    # schedule pages: a school admin's lie within their schools, by the services
    "schedules.index": {"GET": SIGNED_IN},
    "schedules.show": {"GET": SIGNED_IN},
    "schedules.new": {"GET": WRITERS, "POST": WRITERS},
    "schedules.edit": {"GET": WRITERS, "POST": WRITERS},
    "schedules.run": {"POST": WRITERS},
    "schedules.preview": {"POST": WRITERS},
    "schedules.set_enabled": {"POST": WRITERS},
    "schedules.delete": {"GET": WRITERS, "POST": WRITERS},
}

ROLE_NAMES: Final = {
    "district_admin": "a district admin",
    "school_admin": "a school admin",
    "viewer": "a viewer",
}


def register_access(app: Flask) -> None:
    app.before_request(enforce_access)


def rule_for(endpoint: str, method: str) -> Roles | None:
    if endpoint == METRICS and services().settings.metrics_open:
        return PUBLIC
    return RULES.get(endpoint, {}).get("GET" if method == "HEAD" else method)


def enforce_access() -> Response | None:
    endpoint = request.endpoint
    if endpoint is None or request.method == "OPTIONS":
        return None  # routing answers 404/405, and OPTIONS only describes the route
    roles = rule_for(endpoint, request.method)
    if roles is None:
        log.error("endpoint=%s method=%s has no access rule", endpoint, request.method)
        raise Forbidden(f"{request.method} {request.path} has no access rule")
    if roles is PUBLIC:
        return None
    principal = _caller()
    if principal is None:
        if _is_api():
            raise Unauthorized("sign in, or send Authorization: Bearer <token>")
        unauthorized: Response = current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
        return unauthorized
    bind_user(principal.username)
    if principal.role not in roles:
        allowed = " or ".join(ROLE_NAMES[role] for role in ROLES if role in roles)
        raise Forbidden(f"only {allowed} may do this; you are {ROLE_NAMES[principal.role]}")
    return None


def _is_api() -> bool:
    """Whether the caller is a program: a bearer token is taken, and no credentials is a 401."""
    return request.blueprint == "api" or request.endpoint == METRICS


def _caller() -> Principal | None:
    header = request.headers.get("Authorization")
    if header is not None and _is_api():
        principal = _token_principal(header)
        set_token_principal(principal)
        return principal
    if not current_user.is_authenticated:
        return None
    if _is_api():
        # A cookie-borne API call: the API is exempt from the app-wide CSRF check (a token
        # caller needs none), so a session caller is checked here (unsafe methods only).
        current_app.extensions["csrf"].protect()
    session_principal: Principal = current_user._get_current_object()
    return session_principal


def _token_principal(header: str) -> Principal:
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header must be: Bearer <token>")
    token = token.strip()
    described = f"{request.method} {request.path}"
    with services().session_factory.begin() as session:
        found = token_user(session, token)
        if found is None:
            record_token_refused(session, token, request=described, remote_addr=request.remote_addr)
        else:
            user, api_token = found
            record_token_use(
                session, user, api_token, request=described, remote_addr=request.remote_addr
            )
            principal = Principal.of(user)
    if found is None:
        raise Unauthorized("unknown or revoked token")
    return principal


def record_refusal(reason: str) -> None:
    """Every 403 goes into the audit log: who, what they asked for, and why it was refused. It
    is written in a transaction of its own, since the request's own was rolled back; a failure
    to write it is logged and does not change the answer."""
    principal = current_principal()
    try:
        with services().session_factory.begin() as session:
            record_audit(
                session,
                username=principal.username if principal else None,
                action=ACTION_ACCESS_DENIED,
                subject=f"{request.method} {request.path}",
                detail={"reason": reason},
                remote_addr=request.remote_addr,
            )
    except Exception:
        log.exception("audit of a refusal failed path=%s", request.path)
