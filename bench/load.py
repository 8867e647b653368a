"""The API under load: many pollers and a few submitters while a district-wide batch runs.

`.venv/bin/python -m bench.load [--students N] [--pollers P] [--submitters S] [--seconds T]`

It builds the production shape on loopback by itself: a scratch PostgreSQL database (dropped
at the end), a Redis database claimed the way test sessions claim theirs, `cpb db upgrade`,
`cpb seed`, a user and a token, gunicorn with web/gunicorn_conf.py, a Celery worker and beat.
Then it submits one district-wide batch; while it runs, P pollers (threads, one keep-alive
connection each) read it and the batch list, and S submitters each flip three reasons of one
school on and off, their batches queueing behind the big one. Once every batch has finished,
it checks that no change was lost or counted twice, prints markdown tables, and exits 1 on any
5xx or failed check. The processes' logs stay in the run folder it prints.
"""

import argparse
import contextlib
import csv
import http.client
import io
import json
import math
import os
import platform
import random
import re
import secrets
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import func, select

from shared.db import make_engine, make_session_factory
from shared.models import Calendar, School
from tests.support.processes import REPO_ROOT, celery_worker_command, log_tail, stop, wait_until
from tests.support.services import REDIS_CLAIM_PREFIX, free_port, postgres_database

REDIS_BASE = "redis://127.0.0.1:6379"
FINAL = ("succeeded", "failed", "cancelled")
USERNAME = "loadtest"
# The big batch sets these reasons and the submitters flip others, so no batch overwrites
# another's values: re-run as a preview, the big batch and the last one must change nothing.
BIG_CHANGES = {
    channel: {"emergency": "on", "attendance": "on", "priority": "on", "foodService": "off"}
    for channel in ("householdPhone", "homePhone", "workPhone", "cellPhone", "email")
}
FLIPPED = (("email", "behavior"), ("cellPhone", "general"), ("householdPhone", "teacher"))
SAMPLES = 5  # failed answers and exceptions quoted in the report
# gunicorn closes a connection idle for `keepalive` (5 s); a request sent at that moment fails
# with RemoteDisconnected, the client's race and not the server's fault, so reconnect before.
IDLE_RECONNECT_SECONDS = 4.0

View = dict[str, Any]  # GET /api/v1/batches/<id>


def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C: the processes stop and the scratch database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_dir = Path(tempfile.mkdtemp(prefix="cpb-load-"))
    memory_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    print(f"command: `{shlex.join(sys.orig_argv)}`")
    print(f"machine: {os.cpu_count()} cores, {memory_gib:.1f} GiB, {platform.platform()}")
    print(f"logs: {run_dir}", flush=True)
    with contextlib.ExitStack() as stack:
        client, token, year, schools, seed_seconds = start_stack(stack, args, run_dir)
        load = run_load(args, client, token, year, schools)
        views, checks = verify(client, load.batch_ids, args.finish_timeout)
        report(args, seed_seconds, load, views, checks, client.stats, run_dir)
        failed = any(checks.values()) or load.stats.server_errors() or client.stats.server_errors()
    return 1 if failed else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load",
        description="The API under load while a district-wide batch runs.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--students", type=int, default=100_000, help="district size for `cpb seed`")
    add("--pollers", type=int, default=40, help="polling threads")
    add("--poll-interval", type=float, default=0.5, help="seconds between a poller's rounds")
    add("--submitters", type=int, default=3, help="threads submitting small batches")
    add("--batches", type=int, default=10, help="small batches per submitter at most")
    add("--submit-interval", type=float, default=3.0, help="seconds between submissions")
    add("--seconds", type=float, default=120.0, help="time limit of the load phase")
    add("--finish-timeout", type=float, default=600.0, help="then, at most this for the rest")
    add("--web-workers", type=int, default=0, help="WEB_CONCURRENCY; 0: the config's default")
    add("--worker-concurrency", type=int, default=2, help="Celery worker processes")
    add(
        "--redis-db",
        type=int,
        default=14,
        choices=range(1, 16),
        metavar="{1..15}",
        help="database of the Redis on 127.0.0.1:6379, flushed before and after",
    )
    return parser.parse_args()


# --- the stack ---------------------------------------------------------------------------------


def start_stack(
    stack: contextlib.ExitStack, args: argparse.Namespace, run_dir: Path
) -> tuple["Client", str, str, list[str], float]:
    """Database, broker, district, token and processes, all undone by `stack`. Returns a client
    for set-up and checks, the token, the school year, the schools and the seeding time."""
    database_url = stack.enter_context(postgres_database())
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": stack.enter_context(claimed_redis_db(args.redis_db)),
        "SECRET_KEY": secrets.token_hex(32),
        "CPB_INSTANCE_PATH": str(run_dir / "instance"),
        "PYTHONUNBUFFERED": "1",
    }
    started = time.monotonic()
    cpb(env, "db", "upgrade")
    cpb(env, "seed", "--students", str(args.students))
    seed_seconds = time.monotonic() - started
    print(f"seeded {args.students} students in {seed_seconds:.1f} s", flush=True)
    create_user = f"users create {USERNAME} --role district_admin --password-stdin".split()
    cpb(env, *create_user, stdin=secrets.token_urlsafe(24) + "\n")
    token = cpb(env, "tokens", "create", USERNAME).strip().splitlines()[-1]
    year, schools = district(database_url)

    port = free_port()
    # XDG_RUNTIME_DIR: gunicorn's control socket in the run folder, not the one in $HOME.
    web_env = {**env, "CPB_BIND": f"127.0.0.1:{port}", "XDG_RUNTIME_DIR": str(run_dir)}
    if args.web_workers:
        web_env["WEB_CONCURRENCY"] = str(args.web_workers)
    web = [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf", "web:create_app()"]
    stack.enter_context(service("gunicorn", web, web_env, run_dir, r"Booting worker"))
    worker = celery_worker_command(concurrency=args.worker_concurrency)
    stack.enter_context(service("worker", worker, env, run_dir, r"\S+@\S+ ready\.\s*$"))
    beat = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=INFO"]
    beat.append(f"--schedule={run_dir / 'celerybeat-schedule'}")
    stack.enter_context(service("beat", beat, env, run_dir, r"beat: Starting\.\.\."))

    client = Client(port, token, Stats())
    healthy = f"GET /api/v1/health to answer 200 (logs in {run_dir})"
    wait_until(lambda: client.call("health", "GET", "/api/v1/health")[0] == 200, 60, 0.5, healthy)
    return client, token, year, schools, seed_seconds


@contextlib.contextmanager
def claimed_redis_db(db: int) -> Iterator[str]:
    """Redis database `db`, claimed in db 0 as tests/support/services.py claims the test
    sessions' databases (so a pytest run meanwhile picks another); flushed at both ends."""
    key, owner = f"{REDIS_CLAIM_PREFIX}{db}", f"bench.load:{os.getpid()}:{secrets.token_hex(4)}"
    url = f"{REDIS_BASE}/{db}"
    with redis.Redis.from_url(f"{REDIS_BASE}/0", socket_timeout=5) as registry:
        if not registry.set(key, owner, nx=True, ex=3600):
            raise SystemExit(f"{url} is in use ({key} = {registry.get(key)!r}); try --redis-db")
    try:
        with redis.Redis.from_url(url, socket_timeout=10) as client:
            client.flushdb()
        yield url
    finally:
        with redis.Redis.from_url(url, socket_timeout=10) as client:
            client.flushdb()
        with redis.Redis.from_url(f"{REDIS_BASE}/0", socket_timeout=5) as registry:
            if registry.get(key) == owner.encode():
                registry.delete(key)


def cpb(env: Mapping[str, str], *args: str, stdin: str = "") -> str:
    command = [sys.executable, "-c", "from web.cli import main; main()", *args]
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"`cpb {shlex.join(args)}` exited with {done.returncode}:\n{done.stderr}")
    return done.stdout


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


@contextlib.contextmanager
def service(
    name: str, command: list[str], env: Mapping[str, str], run_dir: Path, ready: str
) -> Iterator[None]:
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
        yield
    finally:
        stop(process)


# --- HTTP and figures --------------------------------------------------------------------------


@dataclass
class Endpoint:
    latencies_ms: list[float] = field(default_factory=list)  # of the requests answered
    non_2xx: int = 0
    server_errors: int = 0
    exceptions: int = 0


class Stats:
    """Figures per endpoint, shared by threads, and the first few failures word for word."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}
        self.samples: list[str] = []
        self._lock = threading.Lock()

    def record(self, label: str, status: int, elapsed_ms: float, failure: str) -> None:
        """status 0: no answer (an exception)."""
        with self._lock:
            endpoint = self.endpoints.setdefault(label, Endpoint())
            endpoint.exceptions += status == 0
            if status:
                endpoint.latencies_ms.append(elapsed_ms)
                endpoint.non_2xx += not 200 <= status < 300
                endpoint.server_errors += status >= 500
            if (status == 0 or status >= 500) and len(self.samples) < SAMPLES:
                self.samples.append(f"{label}: {failure}")

    def server_errors(self) -> int:
        return sum(endpoint.server_errors for endpoint in self.endpoints.values())


class Client:
    """One keep-alive connection to the app, with the bearer token; every call is recorded."""

    def __init__(self, port: int, token: str, stats: Stats) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.port, self.token, self.stats = port, token, stats
        self.last_answer = 0.0

    def call(self, label: str, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        """(status, body), or (0, b"") after an exception; the next call reconnects."""
        data = None if body is None else json.dumps(body)
        if time.monotonic() - self.last_answer > IDLE_RECONNECT_SECONDS:
            self.connection.close()
        started = time.perf_counter()
        try:
            self.connection.request(method, path, body=data, headers=self.headers)
            response = self.connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as exc:
            self.connection.close()
            self.stats.record(label, 0, 0.0, f"{method} {path}: {exc!r}")
            return 0, b""
        elapsed_ms = (time.perf_counter() - started) * 1000
        self.last_answer = time.monotonic()
        failure = f"{method} {path}: {response.status} {content[:300]!r}"
        self.stats.record(label, response.status, elapsed_ms, failure)
        return response.status, content

    def view(self, batch_id: int) -> View:
        status, content = self.call("checks", "GET", f"/api/v1/batches/{batch_id}")
        if status != 200:
            raise RuntimeError(f"GET /api/v1/batches/{batch_id}: {status} {content[:300]!r}")
        view: View = json.loads(content)
        return view

    def submit(self, label: str, body: dict[str, Any]) -> int | None:
        status, content = self.call(label, "POST", "/api/v1/batches", body)
        return int(json.loads(content)["id"]) if status == 202 else None


def percentile(ordered: list[float], q: float) -> float:
    """Nearest rank: the smallest value with at least a share q of the values at or below it."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan


# --- the load ----------------------------------------------------------------------------------


@dataclass
class Load:
    stats: Stats
    batch_ids: list[int]  # in id order, the big one first
    seconds: float
    cpu_seconds: float  # of this process: the load generator competes for the same cores


def run_load(
    args: argparse.Namespace, client: Client, token: str, year: str, schools: list[str]
) -> Load:
    """The big batch, then pollers and submitters until the submitters are done and every
    batch has finished, or the time limit."""
    big = {"mode": "studentContact", "scope": {"schoolYear": year}, "changes": BIG_CHANGES}
    big_id = client.submit("POST /batches (big)", big)
    if big_id is None:
        raise SystemExit(f"the district-wide batch was refused: {client.stats.samples}")
    print(f"submitted the district-wide batch {big_id} ({year}); load for {args.seconds:.0f} s")
    stats, done, lock, submitted = Stats(), threading.Event(), threading.Lock(), [big_id]

    def poller() -> None:
        own = Client(client.port, token, stats)
        done.wait(random.uniform(0, args.poll_interval))  # out of step with the others
        while not done.is_set():
            own.call("GET /batches/<id>", "GET", f"/api/v1/batches/{big_id}")
            own.call("GET /batches", "GET", "/api/v1/batches?perPage=20")
            done.wait(args.poll_interval)

    def submitter(school: str) -> None:
        own = Client(client.port, token, stats)
        scope = {"schoolId": school, "schoolYear": year}
        for n in range(args.batches):
            option = "on" if n % 2 == 0 else "off"  # each one after the first flips them all
            changes: dict[str, dict[str, str]] = {}
            for channel, reason in FLIPPED:
                changes.setdefault(channel, {})[reason] = option
            body = {"mode": "studentContact", "scope": scope, "changes": changes}
            if (batch_id := own.submit("POST /batches", body)) is not None:
                with lock:
                    submitted.append(batch_id)
            if done.wait(args.submit_interval):
                return

    started, cpu_started = time.monotonic(), time.process_time()
    pollers = [threading.Thread(target=poller) for _ in range(args.pollers)]
    feeders = [
        threading.Thread(target=submitter, args=(schools[n % len(schools)],))
        for n in range(args.submitters)
    ]
    for thread in pollers + feeders:
        thread.start()
    try:
        while time.monotonic() < started + args.seconds:
            if not any(thread.is_alive() for thread in feeders) and all_final(client, submitted):
                break
            time.sleep(1.0)
    finally:  # also on Ctrl-C or SIGTERM, or the threads would keep the process alive
        done.set()
        for thread in pollers + feeders:
            thread.join()
    cpu_seconds = time.process_time() - cpu_started
    return Load(stats, sorted(submitted), time.monotonic() - started, cpu_seconds)


def all_final(client: Client, batch_ids: list[int]) -> bool:
    """Whether every batch has finished; an answer other than 200 counts as not yet."""
    for batch_id in list(batch_ids):
        status, content = client.call("checks", "GET", f"/api/v1/batches/{batch_id}")
        if status != 200 or json.loads(content)["status"] not in FINAL:
            return False
    return True


# --- integrity ---------------------------------------------------------------------------------


def verify(
    client: Client, batch_ids: list[int], timeout: float
) -> tuple[list[View], dict[str, list[str]]]:
    """The finished batches, and each check with what it found wrong: all empty if no change
    was lost or counted twice."""
    wait_until(lambda: all_final(client, batch_ids), timeout, 2.0, "every batch to finish")
    views = [client.view(batch_id) for batch_id in batch_ids]
    pairs = zip(views, views[1:], strict=False)
    checks = {
        "every batch succeeded": [
            f"batch {v['id']}: {v['status']}, {short(str(v['result']['errors']))}"
            for v in views
            if v["status"] != "succeeded"
        ],
        "progress: done = total": [
            f"batch {v['id']}: {v['progress']}"
            for v in views
            if v["progress"]["done"] != v["progress"]["total"]
        ],
        "applied one after another, in id order": [
            f"batch {b['id']} started at {b['startedAt']}, batch {a['id']} finished at "
            f"{a['finishedAt']}"
            for a, b in pairs
            if stamp(a["finishedAt"]) > stamp(b["startedAt"])
        ],
        "counts add up to the rows of changes.csv": [],
        "previews of the big and the last batch change nothing": [],
    }
    for view in views:
        path = f"/api/v1/batches/{view['id']}/changes.csv"
        status, content = client.call("checks", "GET", path)
        rows = len(list(csv.reader(io.StringIO(content.decode())))) - 1
        if status != 200 or total(view["result"]["counts"]) != rows:
            checks["counts add up to the rows of changes.csv"].append(
                f"batch {view['id']}: counts add up to {total(view['result']['counts'])}; "
                f"{path}: {status}, {rows} rows"
            )
    # Each of the two set its values last, so a change it lost would be found again here.
    previews = {}
    for view in {views[0]["id"]: views[0], views[-1]["id"]: views[-1]}.values():
        body = {key: view[key] for key in ("mode", "scope", "changes", "asOf")}
        previews[view["id"]] = client.submit("checks", {**body, "dryRun": True})
    started = [preview for preview in previews.values() if preview is not None]
    wait_until(lambda: all_final(client, started), timeout, 1.0, f"the previews {started}")
    for batch_id, preview in previews.items():
        found = None if preview is None else client.view(preview)
        if found is None or found["status"] != "succeeded" or total(found["result"]["counts"]):
            checks["previews of the big and the last batch change nothing"].append(
                f"preview {preview} of batch {batch_id}: {short(str(found and found['result']))}"
            )
    return views, checks


def stamp(value: str | None) -> datetime:
    """A view's timestamp; a missing one (never started or finished) sorts last."""
    return datetime.fromisoformat(value) if value else datetime.max.replace(tzinfo=UTC)


def short(text: str, width: int = 160) -> str:
    """The first line of a long message, for one table cell."""
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= width else line[: width - 3] + "..."


def total(counts: dict[str, dict[str, int | None]]) -> int:
    return sum(n for reasons in counts.values() for n in reasons.values() if n is not None)


# --- the report --------------------------------------------------------------------------------


def report(
    args: argparse.Namespace,
    seed_seconds: float,
    load: Load,
    views: list[View],
    checks: dict[str, list[str]],
    other: Stats,
    run_dir: Path,
) -> None:
    print(f"\n### {args.pollers} pollers, {args.submitters} submitters, {load.seconds:.0f} s\n")
    print("| endpoint | requests | req/s | non-2xx | 5xx | exceptions | p50 | p90 | p99 | max |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, endpoint in sorted(load.stats.endpoints.items()):
        ordered = sorted(endpoint.latencies_ms)
        requests = len(ordered) + endpoint.exceptions
        ms = " | ".join(f"{percentile(ordered, q):.0f} ms" for q in (0.5, 0.9, 0.99, 1.0))
        print(
            f"| {label} | {requests} | {requests / load.seconds:.1f} | {endpoint.non_2xx} "
            f"| {endpoint.server_errors} | {endpoint.exceptions} | {ms} |"
        )
    big, small = views[0], views[1:]
    ran = "-"
    if big["startedAt"] and big["finishedAt"]:
        ran = f"{(stamp(big['finishedAt']) - stamp(big['startedAt'])).total_seconds():.1f} s"
    figures = {
        f"`cpb db upgrade` + `cpb seed --students {args.students}`": f"{seed_seconds:.1f} s",
        f"big batch {big['id']}: targets": big["result"]["targets"],
        "big batch: values changed": total(big["result"]["counts"]),
        "big batch: started to finished": ran,
        "small batches": len(small),
        "small batches: values changed": sum(total(v["result"]["counts"]) for v in small),
        "load generator CPU (this process)": f"{load.cpu_seconds:.1f} s in {load.seconds:.0f} s",
        "set-up and check requests: 5xx": other.server_errors(),
    }
    for log_path in sorted(run_dir.glob("*.log")):
        lines = log_path.read_text(errors="replace").splitlines()
        errors = [line for line in lines if re.search(r"\bERROR\b|\bCRITICAL\b", line)]
        first = f" (first: `{short(errors[0], 300)}`)" if errors else ""
        figures[f"{log_path.name}: ERROR lines"] = f"{len(errors)}{first}"
    print("\n| figure | value |\n|---|---|")
    for name, value in figures.items():
        print(f"| {name} | {value} |")
    print("\n| integrity check | result |\n|---|---|")
    for check, problems in checks.items():
        more = f"; and {len(problems) - 3} more" if len(problems) > 3 else ""
        print(f"| {check} | {'; '.join(problems[:3]) + more or 'ok'} |")
    for sample in load.stats.samples + other.samples:
        print(f"\nfailure: {sample}")


if __name__ == "__main__":
    sys.exit(main())
