"""Real processes for end-to-end tests: a Celery worker (and beat) as the product runs them.

The process writes to a log file, never a pipe that could fill up and stall it. While a process
runs, its log is registered so that a failing test's report shows the tail (see conftest.py);
a process that fails to start, or a `with` block that raises, prints the tail as well.
"""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TypeVar

REPO_ROOT = Path(__file__).resolve().parents[2]
LOG_TAIL_LINES = 80

T = TypeVar("T")
# "celery@host ready." ends a plain line, or the message of a JSON one (CPB_LOG_FORMAT).
WORKER_READY = r'\S+@\S+ ready\.(?:\s*$|")'

# pid -> (name, log file) of the processes started here and still running.
_running: dict[int, tuple[str, Path]] = {}


class ProcessFailed(Exception):
    """A background process exited or did not become ready in time."""


def wait_until(
    predicate: Callable[[], T], timeout: float = 30.0, interval: float = 0.1, message: str = ""
) -> T:
    """Calls `predicate` until it returns something truthy and returns that."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            what = message or getattr(predicate, "__name__", repr(predicate))
            raise TimeoutError(f"{what}: still false after {timeout}s (last value {value!r})")
        time.sleep(interval)


def celery_worker_command(
    concurrency: int = 2, queues: str | None = None, app: str = "worker"
) -> list[str]:
    command = [sys.executable, "-m", "celery", "-A", app, "worker", "--loglevel=INFO"]
    command += [f"--concurrency={concurrency}", "--pool=prefork"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    if queues:
        command.append(f"--queues={queues}")
    return command


@contextlib.contextmanager
def celery_worker(
    env: Mapping[str, str], concurrency: int = 2, queues: str | None = None, app: str = "worker"
) -> Iterator["subprocess.Popen[bytes]"]:
    """A real `celery -A worker worker` (or another module's `app`) with `env` (DATABASE_URL,
    CELERY_BROKER_URL, ...) over os.environ, ready to consume when the block starts, shut down
    warmly when it ends."""
    command = celery_worker_command(concurrency, queues, app)
    with background_process("celery worker", command, env, ready=WORKER_READY) as proc:
        yield proc


@contextlib.contextmanager
def celery_beat(env: Mapping[str, str]) -> Iterator["subprocess.Popen[bytes]"]:
    """A real `celery -A worker beat`, its schedule file in a temporary directory."""
    with tempfile.TemporaryDirectory(prefix="cpb-beat-") as scratch:
        command = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=INFO"]
        command.append(f"--schedule={scratch}/celerybeat-schedule")
        with background_process("celery beat", command, env, ready=r"beat: Starting\.\.\.") as proc:
            yield proc


@contextlib.contextmanager
def background_process(
    name: str,
    command: list[str],
    env: Mapping[str, str],
    ready: str,
    ready_timeout: float = 60.0,
    stop_timeout: float = 30.0,
) -> Iterator["subprocess.Popen[bytes]"]:
    """Runs `command` in the repository root until the block ends; the block starts once a line
    of its output matches the regular expression `ready`. On exit: SIGTERM, then SIGKILL of the
    whole process group after `stop_timeout` seconds."""
    scratch = Path(tempfile.mkdtemp(prefix="cpb-process-"))
    log_path = scratch / "output.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            # An instance folder of its own, so that nothing is written into the checkout.
            env={**os.environ, **_defaults(scratch), **env},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that a hard stop also takes the pool's children.
            start_new_session=True,
        )
    _running[process.pid] = (name, log_path)
    show_log = quiet = False
    try:
        _wait_ready(name, process, log_path, re.compile(ready, re.MULTILINE), ready_timeout)
        yield process
    except ProcessFailed:
        quiet = True  # its message has the log tail already
        raise
    except BaseException:
        show_log = True
        raise
    finally:
        del _running[process.pid]
        died = process.poll()
        stop(process, stop_timeout)
        if (show_log or died is not None) and not quiet:
            why = "stopped" if died is None else f"had already exited with {died}"
            print(f"\n--- {name} {why}; log tail:\n{log_tail(log_path)}", file=sys.stderr)
        shutil.rmtree(scratch, ignore_errors=True)


def _defaults(scratch: Path) -> dict[str, str]:
    return {"PYTHONUNBUFFERED": "1", "CPB_INSTANCE_PATH": str(scratch / "instance")}


def stop(process: "subprocess.Popen[bytes]", timeout: float = 30.0) -> int:
    """SIGTERM (Celery's warm shutdown: running tasks finish), SIGKILL after `timeout`."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            kill_hard(process)
    # Whatever the group still holds (an orphaned pool child) must not outlive the test.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def kill_hard(process: "subprocess.Popen[bytes]") -> int:
    """SIGKILL to the process and its children, as a crash or an OOM kill would do."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    return process.wait()


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(log unreadable: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def log_text(process: "subprocess.Popen[bytes]") -> str:
    """Everything a process started by `background_process` has written so far."""
    return _running[process.pid][1].read_text(errors="replace")


def running_logs() -> list[tuple[str, str]]:
    """(name, log tail) of every process still running; conftest adds them to failure reports."""
    return [(f"{name} pid {pid}", log_tail(log_path)) for pid, (name, log_path) in _running.items()]


def _wait_ready(
    name: str,
    process: "subprocess.Popen[bytes]",
    log_path: Path,
    ready: "re.Pattern[str]",
    timeout: float,
) -> None:
    deadline = time.monotonic() + timeout
    while not ready.search(log_path.read_text(errors="replace")):
        if process.poll() is not None:
            problem = f"exited with {process.returncode} before it was ready"
        elif time.monotonic() >= deadline:
            problem = f"was not ready after {timeout}s"
        else:
            time.sleep(0.1)
            continue
        raise ProcessFailed(f"{name} {problem}; log tail:\n{log_tail(log_path)}")
