"""Redis for the tests: an empty database per test session, the one CPB_TEST_REDIS_URL names, one of
databases 1..15 of the default server on 127.0.0.1 (claimed, so that two sessions never share
one), or a throwaway redis-server, which a test can kill and start again."""

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.support.service_common import START_TIMEOUT, Unavailable, force_throwaway, free_port

DEFAULT_REDIS_HOST = "127.0.0.1"
DEFAULT_REDIS_PORT = 6379
# Databases 1..15 of the shared Redis, claimed one per test session so that two sessions running
# at once never consume each other's Celery messages; db 0 belongs to others and is never flushed.
REDIS_TEST_DBS = range(15, 0, -1)
REDIS_CLAIM_PREFIX = "cpb-test:claim:db"
REDIS_CLAIM_SECONDS = 24 * 3600


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
