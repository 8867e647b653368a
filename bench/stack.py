"""What the benchmarks share: the production shape on loopback.

A Redis database claimed the way test sessions claim theirs, `cpb` run as a subprocess (timed,
with its peak memory), the seeded district's year and schools, gunicorn with
web/gunicorn_conf.py, a Celery worker and beat in process groups of their own, and a client of
the app (bench/client.py, which times every call).
"""

import contextlib
import os
import platform
import re
import resource
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import redis
from sqlalchemy import func, select

from bench.client import Client, Stats
from shared.core.db import make_engine, make_session_factory
from shared.models import Calendar, School
from tests.support.processes import (
    REPO_ROOT,
    WORKER_READY,
    celery_worker_command,
    log_tail,
    stop,
    wait_until,
)
from tests.support.services import REDIS_CLAIM_PREFIX, free_port

REDIS_BASE = "redis://127.0.0.1:6379"
FINAL = ("succeeded", "failed", "cancelled")
USERNAME = "loadtest"
# The district-wide batch of the benchmarks. Other batches they submit flip other reasons, so
# none overwrites its values.
BIG_CHANGES = {
    channel: {"emergency": "on", "attendance": "on", "priority": "on", "foodService": "off"}
    for channel in ("householdPhone", "homePhone", "workPhone", "cellPhone", "email")
}


def machine() -> str:
    """Cores, memory and platform, for the report."""
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores, {memory_gib:.1f} GiB, {platform.platform()}"


def stack_env(database_url: str, broker_url: str, run_dir: Path) -> dict[str, str]:
    """The environment of `cpb` and of the services, over os.environ."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": secrets.token_hex(32),
        "CPB_INSTANCE_PATH": str(run_dir / "instance"),
        "PYTHONUNBUFFERED": "1",
    }


# --- Redis -------------------------------------------------------------------------------------


@contextlib.contextmanager
def claimed_redis_db(db: int) -> Iterator[str]:
    """Redis database `db`, claimed in db 0 as tests/support/services.py claims the test
    sessions' databases (so a pytest run meanwhile picks another); flushed at both ends."""
    key = f"{REDIS_CLAIM_PREFIX}{db}"
    owner = f"bench.{Path(sys.argv[0]).stem}:{os.getpid()}:{secrets.token_hex(4)}"
    url = f"{REDIS_BASE}/{db}"
    with redis.Redis.from_url(f"{REDIS_BASE}/0", socket_timeout=5) as registry:
        if not registry.set(key, owner, nx=True, ex=3600):
            raise SystemExit(f"{url} is in use ({key} = {registry.get(key)!r}); try --redis-db")
    try:
        flush_redis(url)
        yield url
    finally:
        flush_redis(url)
        with redis.Redis.from_url(f"{REDIS_BASE}/0", socket_timeout=5) as registry:
            if registry.get(key) == owner.encode():
                registry.delete(key)


def flush_redis(url: str) -> None:
    with redis.Redis.from_url(url, socket_timeout=10) as client:
        client.flushdb()


# --- cpb ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ran:
    """A `cpb` command that exited with 0."""

    stdout: str
    seconds: float
    peak_rss_mb: float  # the process's own high-water mark (ru_maxrss)


def cpb(env: Mapping[str, str], *args: str, stdin: str = "") -> str:
    return cpb_run(env, *args, stdin=stdin).stdout


def cpb_run(env: Mapping[str, str], *args: str, stdin: str = "") -> Ran:
    """`cpb args`, timed; reaped with os.wait4 for its peak memory. Output goes through
    temporary files, not pipes, which would have to be served while it runs."""
    command = [sys.executable, "-c", "from cli.main import main; main()", *args]
    with (
        tempfile.TemporaryFile() as given,
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
    ):
        given.write(stdin.encode())
        given.seek(0)
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdin=given, stdout=out, stderr=err
        )
        usage = reap(process)
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(errors="replace"), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise SystemExit(f"`cpb {shlex.join(args)}` exited with {process.returncode}:\n{stderr}")
    return Ran(stdout, seconds, usage.ru_maxrss / 1024)  # ru_maxrss is in KiB on Linux


def reap(process: "subprocess.Popen[bytes]") -> resource.struct_rusage:
    """Wait for `process` with os.wait4, which also gives its resource usage; sets its
    returncode. Killed if the wait is interrupted (Ctrl-C, SIGTERM), so it does not outlive us."""
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)  # reaped: Popen must not wait again
    return usage


def create_token(env: Mapping[str, str]) -> str:
    """A district admin, USERNAME, with a random password, and an API token of theirs."""
    create_user = f"users create {USERNAME} --role district_admin --password-stdin".split()
    cpb(env, *create_user, stdin=secrets.token_urlsafe(24) + "\n")
    return cpb(env, "tokens", "create", USERNAME).strip().splitlines()[-1]


def district(database_url: str) -> tuple[str, list[str]]:
    """The seeded district's current school year (the later of its two) and its schools."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine)() as session:
            year = session.scalar(select(func.max(Calendar.school_year)))
            schools = list(session.scalars(select(School.ext_id).order_by(School.ext_id)))
    finally:
        engine.dispose()
    if year is None or not schools:
        raise SystemExit(f"the seeded district has no calendars or no schools ({database_url})")
    return year, schools


# --- the services ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Services:
    client: "Client"  # for set-up and checks
    web: "subprocess.Popen[bytes]"  # the gunicorn master; its workers are in its process group
    worker: "subprocess.Popen[bytes]"  # the Celery main process; its pool likewise


def start_services(
    stack: contextlib.ExitStack,
    env: Mapping[str, str],
    token: str,
    run_dir: Path,
    *,
    worker_concurrency: int,
    web_workers: int = 0,
) -> Services:
    """gunicorn, a Celery worker and beat on the database and broker of `env`, stopped by
    `stack`; returns once GET /api/v1/health answers 200. web_workers 0: the config's default."""
    port = free_port()
    # XDG_RUNTIME_DIR: gunicorn's control socket in the run folder, not the one in $HOME.
    web_env = {**env, "CPB_BIND": f"127.0.0.1:{port}", "XDG_RUNTIME_DIR": str(run_dir)}
    if web_workers:
        web_env["WEB_CONCURRENCY"] = str(web_workers)
    web = [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf", "web:create_app()"]
    web_process = stack.enter_context(service("gunicorn", web, web_env, run_dir, r"Booting worker"))
    worker = celery_worker_command(concurrency=worker_concurrency)
    worker_process = stack.enter_context(service("worker", worker, env, run_dir, WORKER_READY))
    beat = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=INFO"]
    beat.append(f"--schedule={run_dir / 'celerybeat-schedule'}")
    stack.enter_context(service("beat", beat, env, run_dir, r"beat: Starting\.\.\."))

    client = Client(port, token, Stats())
    healthy = f"GET /api/v1/health to answer 200 (logs in {run_dir})"
    wait_until(lambda: client.call("health", "GET", "/api/v1/health")[0] == 200, 60, 0.5, healthy)
    return Services(client, web_process, worker_process)


@contextlib.contextmanager
def service(
    name: str, command: list[str], env: Mapping[str, str], run_dir: Path, ready: str
) -> Iterator["subprocess.Popen[bytes]"]:
    """`command` in a process group of its own until the block ends (then processes.stop),
    which starts once a line of its output matches `ready`. Unlike processes.background_process
    this keeps the output, in run_dir/<name>.log, to explain a 5xx after the run."""
    log_path = run_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pattern = re.compile(ready, re.MULTILINE)

    def is_ready() -> bool:
        if process.poll() is not None:
            tail = log_tail(log_path)
            raise SystemExit(f"{name} exited with {process.returncode}; {log_path}:\n{tail}")
        return bool(pattern.search(log_path.read_text(errors="replace")))

    try:
        wait_until(is_ready, 60, 0.2, f"{name} to log {ready!r} in {log_path}")
        yield process
    finally:
        stop(process)
