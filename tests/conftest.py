"""Fixtures on real services: SQLite files, PostgreSQL and Redis (see tests/support/services.py
for where the servers come from). Without a server the tests that need it are skipped, except in
CI (CI=true), where a missing server is a failure: CI must never pass by skipping."""

import contextlib
import os
import shutil
from collections.abc import Callable, Generator, Iterator
from contextlib import AbstractContextManager as ContextManager
from pathlib import Path
from typing import NoReturn

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine

from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.migrate import upgrade
from tests.support import processes, schedule_timeline, services, stack
from tests.support.web import EnqueueRecorder, add_district, add_user, log_in, make_app

CONFORMANCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"


def _unavailable(what: str, reason: str) -> NoReturn:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"{what} unavailable: {reason}")


def _provide(
    stack: contextlib.ExitStack, what: str, provider: Callable[[], ContextManager[str]]
) -> str:
    try:
        return stack.enter_context(provider())
    except services.Unavailable as exc:
        reason = str(exc)
    # Outside the except block, so that the report shows the reason alone.
    _unavailable(what, reason)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh database for the session: `postgresql+psycopg://.../cpb_test_<random>`."""
    with contextlib.ExitStack() as stack:
        yield _provide(stack, "PostgreSQL", services.postgres_database)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """An empty Redis database for the session: `redis://host:port/db`."""
    with contextlib.ExitStack() as stack:
        yield _provide(stack, "Redis", services.redis_database)


@pytest.fixture(scope="session")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def pg_session_factory(pg_engine: Engine) -> SessionFactory:
    """The session's PostgreSQL database, every table emptied and every id sequence reset."""
    stack.empty_tables(pg_engine)
    return make_session_factory(pg_engine)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database migrated to head once, for each test to copy (faster than migrating)."""
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()  # the last connection closed: the write-ahead log is folded in and removed
    return path


@pytest.fixture
def sqlite_session_factory(tmp_path: Path, sqlite_template: Path) -> Iterator[SessionFactory]:
    path = tmp_path / "cpb.sqlite3"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield make_session_factory(engine)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def session_factory(request: pytest.FixtureRequest) -> SessionFactory:
    name = {"sqlite": "sqlite_session_factory", "postgres": "pg_session_factory"}[request.param]
    factory: SessionFactory = request.getfixturevalue(name)
    return factory


@pytest.fixture(scope="session")
def conformance_dir() -> Path:
    directory = Path(os.environ.get("CPB_CONFORMANCE_DIR") or CONFORMANCE_DIR)
    if not directory.is_dir():
        pytest.skip(f"no conformance cases at {directory} (set CPB_CONFORMANCE_DIR)")
    return directory


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The schedules' timeline on the real stack is minutes of waiting for the clock: when its
    test is selected, the timeline starts now, in the background, and its test goes last."""
    timeline = [item for item in items if item.path.name == "test_schedule_processes.py"]
    if timeline:
        items[:] = [item for item in items if item not in timeline] + timeline
        schedule_timeline.start()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failing test's report shows the log tail of every worker or beat process still running
    (those started by fixtures are only stopped after the report is made)."""
    report: pytest.TestReport = yield
    if report.failed:
        for name, tail in processes.running_logs():
            report.sections.append((f"log of {name}", tail))
    return report


@pytest.fixture
def enqueued() -> EnqueueRecorder:
    """What a web app built with `make_app` sent to the broker, instead of sending it."""
    return EnqueueRecorder()


@pytest.fixture
def app(session_factory: SessionFactory, tmp_path: Path, enqueued: EnqueueRecorder) -> Flask:
    """The web app on `session_factory`, sending its tasks to `enqueued`. A module whose tests
    need users or data overrides it with a fixture that adds them and requests this one."""
    return make_app(session_factory, tmp_path, enqueued)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def csrf(client: FlaskClient) -> str:
    """`client` signed in as `admin` (the module adds the user); the CSRF token for its posts."""
    return log_in(client)


@pytest.fixture
def web_district(session_factory: SessionFactory) -> dict[str, int]:
    """The `admin` user and `add_district`'s small district; returns the filters' ids."""
    add_user(session_factory, "admin", "district_admin")
    return add_district(session_factory)


@pytest.fixture
def stack_env(pg_session_factory: SessionFactory, pg_url: str, redis_url: str, tmp_path: Path):
    """The environment of the real stack (tests/support/stack.py): its district imported and
    the user ada made through the command line, on PostgreSQL and Redis."""
    return stack.stack_env(pg_url, redis_url, tmp_path)


@pytest.fixture
def stack_api(stack_env: dict[str, str], pg_session_factory: SessionFactory):
    """A test client of the app and ada's bearer header, while a real worker (two pool
    processes) runs."""
    with stack.api_stack(stack_env, pg_session_factory) as client_and_headers:
        yield client_and_headers


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The recovery times each fault test recorded (docs/reliability.md lists them): until the
    batch moved again, and until its final state."""
    timed = [
        (report.nodeid, dict(report.user_properties))
        for report in terminalreporter.stats.get("passed", [])
        if report.when == "call" and "recovery_seconds" in dict(report.user_properties)
    ]
    if timed:
        terminalreporter.section("recovery after each fault (seconds: moved again, final)")
        for nodeid, times in timed:
            moved = times.get("moved_seconds")
            shown = "     -" if moved is None else f"{moved:6.1f}"
            terminalreporter.write_line(f"{shown} {times['recovery_seconds']:6.1f}  {nodeid}")
