"""Real PostgreSQL and Redis for the tests.

Each server comes from, in order: the URL in an environment variable, the default server on
127.0.0.1, or a throwaway server started from local binaries and stopped at the end. Set
CPB_TEST_FORCE_THROWAWAY=1 to skip the default servers (it is how the fallback itself is tested).
Every function raises `Unavailable` when no server of its kind can be had; the fixtures turn that
into a skip, or a failure in CI.
"""

import contextlib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import redis
from sqlalchemy.engine import make_url

DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_HOST = "127.0.0.1"
DEFAULT_REDIS_PORT = 6379
# Databases 1..15 of the shared Redis, claimed one per test session so that two sessions running
# at once never consume each other's Celery messages; db 0 belongs to others and is never flushed.
REDIS_TEST_DBS = range(15, 0, -1)
REDIS_CLAIM_PREFIX = "cpb-test:claim:db"
REDIS_CLAIM_SECONDS = 24 * 3600
START_TIMEOUT = 60.0


class Unavailable(Exception):
    """No server of this kind can be had here; the message says why."""


def force_throwaway() -> bool:
    return os.environ.get("CPB_TEST_FORCE_THROWAWAY", "") not in ("", "0", "false")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- PostgreSQL ---------------------------------------------------------------------------------


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


# --- Redis --------------------------------------------------------------------------------------


@contextlib.contextmanager
def redis_database() -> Iterator[str]:
    """An empty Redis database for this test session; yields its URL (`redis://host:port/db`)."""
    configured = os.environ.get("CPB_TEST_REDIS_URL")
    if configured:
        problem = _redis_problem(configured)
        if problem:
            raise Unavailable(f"CPB_TEST_REDIS_URL does not answer: {problem}")
        _flush(configured)
        yield configured
        return
    default_problem = "skipped (CPB_TEST_FORCE_THROWAWAY is set)"
    if not force_throwaway():
        default_url = f"redis://{DEFAULT_REDIS_HOST}:{DEFAULT_REDIS_PORT}"
        default_problem = _redis_problem(default_url) or ""
        if not default_problem:
            claim = _claim_redis_db()
            if claim is not None:
                with claim as url:
                    yield url
                return
            default_problem = "all of its test databases 1..15 are claimed"
    with contextlib.ExitStack() as stack:
        try:
            url = stack.enter_context(throwaway_redis())
        except Unavailable as exc:
            raise Unavailable(f"redis://{DEFAULT_REDIS_HOST}: {default_problem}; {exc}") from exc
        yield url


@contextlib.contextmanager
def throwaway_redis() -> Iterator[str]:
    with RedisServer() as server:
        yield server.url


class RedisServer:
    """A private redis-server on a free port without persistence, which can be killed and
    started again on the same port (a restart that loses every message), stopped at the end."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise Unavailable("no throwaway server either: redis-server is not installed")
        self.scratch = Path(tempfile.mkdtemp(prefix="cpb-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.command = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        self.command += ["--appendonly", "no", "--dir", str(self.scratch)]
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> "RedisServer":
        try:
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)

    def start(self) -> None:
        log_path = self.scratch / "server.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + START_TIMEOUT
        while _redis_problem(self.url):
            if self.process.poll() is not None or time.monotonic() > deadline:
                text = log_path.read_text(errors="replace").strip()
                raise Unavailable(f"no throwaway server either: redis-server: {text[-2000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: the queued and unacknowledged messages are gone."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def _redis_problem(url: str) -> str | None:
    try:
        with redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=5) as client:
            client.ping()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    return None


def _flush(url: str) -> None:
    with redis.Redis.from_url(url, socket_timeout=10) as client:
        client.flushdb()


def _claim_redis_db() -> contextlib.AbstractContextManager[str] | None:
    base = f"redis://{DEFAULT_REDIS_HOST}:{DEFAULT_REDIS_PORT}"
    owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
    with redis.Redis.from_url(f"{base}/0", socket_timeout=5) as registry:
        for db in REDIS_TEST_DBS:
            key = f"{REDIS_CLAIM_PREFIX}{db}"
            if registry.set(key, owner, nx=True, ex=REDIS_CLAIM_SECONDS):
                return _claimed_redis_db(f"{base}/{db}", key, owner)
    return None


@contextlib.contextmanager
def _claimed_redis_db(url: str, key: str, owner: str) -> Iterator[str]:
    base = url.rsplit("/", 1)[0]
    try:
        _flush(url)
        yield url
    finally:
        try:
            _flush(url)
        finally:
            with redis.Redis.from_url(f"{base}/0", socket_timeout=5) as registry:
                if registry.get(key) == owner.encode():
                    registry.delete(key)
