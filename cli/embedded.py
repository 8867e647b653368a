"""`cpb run`: the whole system in one process, on the embedded default when no services are set.

The web app is served by waitress on a thread; Celery beat runs on a thread too; the Celery
worker runs the same task code in the main thread, on the broker of the settings: Redis when
CELERY_BROKER_URL is set, else Celery's in-memory transport (nothing to install; messages live in
this process, and what they held is sent again from the database when it starts again).
"""

import secrets
import threading
from datetime import timedelta
from pathlib import Path

import click
from celery import Celery
from celery.beat import EmbeddedService
from celery.worker import WorkController
from sqlalchemy import func, select
from waitress import create_server

from shared.access.users import create_user
from shared.core.db import SessionFactory, is_sqlite, make_engine, make_session_factory
from shared.core.migrate import upgrade
from shared.core.settings import Settings, write_private
from shared.imports.demo import load_demo
from shared.models import Person, User
from web.app import create_app
from web.celery_client import CeleryClient
from worker.celery_app import create_celery
from worker.presence import workers_here
from worker.recovery import lost_messages
from worker.runtime import send

DEMO_USER = "admin"


def run(settings: Settings, host: str, port: int, demo_students: int) -> None:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    factory = make_session_factory(engine)
    password = _first_start(factory, settings.instance_path, demo_students)

    celery = create_celery(settings)
    client = CeleryClient(lambda: celery)
    app = create_app(
        settings,
        enqueue=client.enqueue,
        session_factory=factory,
        broker_check=client.check_broker,
        worker_probe=workers_here,  # the worker below, in this process
    )
    server = create_server(app, host=host, port=port, threads=4)
    threading.Thread(target=server.run, name="web", daemon=True).start()
    beat = EmbeddedService(
        celery,
        thread=True,
        schedule_filename=str(settings.instance_path / "celerybeat-schedule"),
        scheduler_cls=celery.conf.beat_scheduler,  # as `celery beat` does: it records its tick
    )
    beat.start()

    url = f"http://{host}:{server.effective_port}/"  # type: ignore[attr-defined]
    click.echo(f"Contact Preferences Batch is running at {url}")
    if password is not None:
        click.echo(f"Log in as {DEMO_USER!r} with password {password!r}")
    click.echo("Press Ctrl+C to stop.", nl=True)
    # A batch that was running when this process stopped (killed, or the machine went down)
    # goes on where it was: its messages died with the in-memory queue.
    lease = timedelta(seconds=settings.chunk_lease_seconds)
    send(celery, lost_messages(celery, factory, lease, nothing_held=not settings.broker_url))
    try:
        _worker(celery, single_writer=is_sqlite(engine)).start()
    finally:
        beat.stop()
        server.close()


def _worker(celery: Celery, single_writer: bool) -> WorkController:
    # SQLite has one writer at a time: one task at a time is all it can use.
    return celery.Worker(
        pool="solo" if single_writer else "threads",
        concurrency=1 if single_writer else 4,
        loglevel="WARNING",
        quiet=True,
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
    )


def _first_start(factory: SessionFactory, instance: Path, demo_students: int) -> str | None:
    """On an empty database: load the demo district and create the demo login. Returns the
    demo password while that login exists (kept in the instance folder), else None."""
    password_file = instance / "demo-login.txt"
    with factory.begin() as session:
        if not session.scalar(select(func.count()).select_from(Person)):
            load_demo(session, students=demo_students, seed=1)
        if session.scalar(select(User.id).where(User.username == DEMO_USER)) is None:
            password = secrets.token_urlsafe(9)
            create_user(session, DEMO_USER, "district_admin", password, [])
            instance.mkdir(parents=True, exist_ok=True)
            write_private(password_file, password + "\n")
            return password
    return password_file.read_text().strip() if password_file.exists() else None
