"""The app factory: `create_app(settings=None, *, enqueue=None, session_factory=None, ...)`.

Tests and `cpb run` pass their own session factory, enqueue function, broker check and worker
probe; the defaults come from the settings (Settings.from_env() when none are given).
"""

from typing import Final

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.settings import Settings
from web.access import register_access
from web.api import api_blueprint
from web.api.routes import CONVERTERS
from web.auth import current_principal, register_login
from web.celery_client import CeleryClient
from web.errors import register_error_handlers
from web.labels import SCOPE_LABELS, format_moment
from web.metrics import register_metrics
from web.pages import (
    audit,
    auth,
    batches,
    filters,
    imports,
    people,
    reach,
    schedules,
    users,
    wizard,
)
from web.request_log import register_request_log
from web.security import register_security
from web.services import BrokerCheck, Enqueue, WebServices, WorkerProbe, install, services

MAX_BODY_BYTES: Final = 8 * 2**20


def create_app(
    settings: Settings | None = None,
    *,
    enqueue: Enqueue | None = None,
    session_factory: SessionFactory | None = None,
    broker_check: BrokerCheck | None = None,
    worker_probe: WorkerProbe | None = None,
) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_path=str(settings.instance_path.resolve()))
    register_config(app, settings)
    register_services(app, settings, enqueue, session_factory, broker_check, worker_probe)
    register_request_log(app)  # first of the hooks: their lines carry the request's id
    register_metrics(app)  # before the other hooks: a request refused by them is timed too
    register_login(app)
    register_security(app, settings)  # before register_access: an expired session ends first
    csrf = CSRFProtect(app)
    register_access(app)
    register_error_handlers(app)
    register_blueprints(app, csrf)
    register_template_globals(app)
    return app


def register_config(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # The CSRF token lives as long as the login session instead of one hour, so a wizard
        # left open over lunch still submits.
        WTF_CSRF_TIME_LIMIT=None,
        # A larger body is refused (413) before it is read: no request of the API or the pages
        # comes near this.
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.url_map.converters.update(CONVERTERS)


def register_services(
    app: Flask,
    settings: Settings,
    enqueue: Enqueue | None,
    session_factory: SessionFactory | None,
    broker_check: BrokerCheck | None,
    worker_probe: WorkerProbe | None,
) -> None:
    if session_factory is None:
        session_factory = make_session_factory(make_engine(settings.database_url, role="cpb-web"))
    client = CeleryClient.for_settings(settings)  # builds nothing until first used
    install(
        app,
        WebServices(
            settings,
            session_factory,
            enqueue or client.enqueue,
            broker_check or client.check_broker,
            worker_probe or client.count_workers,
            client.queue_depth,
        ),
    )


def register_blueprints(app: Flask, csrf: CSRFProtect) -> None:
    for pages in (auth, wizard, batches, people, audit, users, schedules, imports, reach, filters):
        app.register_blueprint(pages.bp)
    csrf.exempt(imports.index)  # checked in the view, under the upload's limit
    app.register_blueprint(api_blueprint(csrf))


def register_template_globals(app: Flask) -> None:
    app.jinja_env.globals["current_principal"] = current_principal
    app.jinja_env.globals["scope_labels"] = SCOPE_LABELS
    app.jinja_env.filters["moment"] = lambda moment: format_moment(moment, services().settings.zone)
