"""PostgreSQL for the tests: a fresh database per test session, on the server CPB_TEST_PG_URL
names, the default server on 127.0.0.1, or a throwaway cluster started from local binaries (as
an unprivileged user when running as root) and stopped at the end."""

import contextlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from tests.support.service_common import START_TIMEOUT, Unavailable, force_throwaway, free_port

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh, empty database for this test session, dropped at the end; yields its URL in
    SQLAlchemy form (`postgresql+psycopg://...`)."""
    with postgres_server() as admin_url:
        name = f"cpb_test_{secrets.token_hex(4)}"
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            yield (
                make_url(admin_url)
                .set(drivername="postgresql+psycopg", database=name)
                .render_as_string(hide_password=False)
            )
        finally:
            # FORCE: a worker process or a leaked connection must not keep the database alive.
            with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres_server() -> Iterator[str]:
    """Yields a libpq URL of a database on which CREATE DATABASE is allowed."""
    configured = os.environ.get("CPB_TEST_PG_URL")
    if configured:
        url = libpq_url(configured)
        problem = _postgres_problem(url)
        if problem:
            raise Unavailable(f"CPB_TEST_PG_URL does not answer: {problem}")
        yield url
        return
    default_problem = "skipped (CPB_TEST_FORCE_THROWAWAY is set)"
    if not force_throwaway():
        default_problem = _postgres_problem(DEFAULT_PG_URL) or ""
        if not default_problem:
            yield DEFAULT_PG_URL
            return
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_postgres())
        except Unavailable as exc:
            raise Unavailable(f"{DEFAULT_PG_URL}: {default_problem}; {exc}") from exc
        yield url


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """A private cluster in a temporary directory on a free port, trust authentication."""
    bindir = _postgres_bindir()
    if bindir is None:
        raise Unavailable("no throwaway server either: initdb and pg_ctl are not installed")
    user = _unprivileged_user()
    scratch = Path(tempfile.mkdtemp(prefix="cpb-pg-"))
    data, log, port = scratch / "data", scratch / "server.log", free_port()
    try:
        if user is not None:
            # initdb refuses to run as root: the cluster belongs to an unprivileged user.
            os.chown(scratch, user.pw_uid, user.pw_gid)
        _run_as(
            user,
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
            + ["-E", "UTF8", "--locale=C", "--no-sync"],
            scratch,
        )
        # Durability is pointless for a cluster that is deleted at the end; speed is not.
        options = (
            f"-p {port} -k {scratch} -c listen_addresses=127.0.0.1"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        pg_ctl = str(bindir / "pg_ctl")
        _run_as(
            user, [pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"], scratch
        )
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            _run_as(user, [pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"], scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def libpq_url(url: str) -> str:
    """psycopg wants `postgresql://`; the tests and the app are configured in SQLAlchemy form."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _postgres_problem(url: str) -> str | None:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip() or type(exc).__name__
    return None


def _postgres_bindir() -> Path | None:
    candidates = [shutil.which("initdb")]
    candidates += sorted(
        (str(path) for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")), reverse=True
    )
    for candidate in candidates:
        if candidate and (Path(candidate).parent / "pg_ctl").exists():
            return Path(candidate).resolve().parent
    return None


def _unprivileged_user() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise Unavailable("no throwaway server either: running as root and no 'postgres' user")


def _run_as(user: pwd.struct_passwd | None, command: list[str], scratch: Path) -> None:
    # Output goes to a file, not a pipe: pg_ctl's server child could hold a pipe open forever.
    output = scratch / "command.log"
    identity: dict[str, Any] = {}
    if user is not None:
        identity = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with output.open("wb") as sink:
        result = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=scratch,
            timeout=START_TIMEOUT,
            check=False,
            **identity,
        )
    if result.returncode != 0:
        text = output.read_text(errors="replace")
        server_log = scratch / "server.log"
        if server_log.exists():
            text += server_log.read_text(errors="replace")
        raise Unavailable(
            f"no throwaway server either: {Path(command[0]).name} exited with "
            f"{result.returncode}: {text.strip()[-2000:]}"
        )
