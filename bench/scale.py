"""The product at scale on PostgreSQL: 10,000, 100,000 and 1,000,000 students, against one SQL
statement.

`.venv/bin/python -m bench.scale [--sizes 10000,100000,1000000] [--seed S] [--no-write]`

Per size it seeds a scratch database (the base), adds a user and a token, and vacuums and
analyzes it. Each run then gets a copy of the base (CREATE DATABASE ... TEMPLATE), so that every
run starts from the same data: the district-wide batch of bench.stack.BIG_CHANGES as one SQL
statement (bench/statement.py); as the product's job with one Celery worker process; with two,
while pollers and a submitter measure the API's latency, followed by its undo and the exports
(`cpb export preferences` and GET /api/v1/preferences.csv). Last, the same district is written
as a CSV bundle and imported into an empty database. It checks that the job's counts equal the
statement's and the undo's equal the job's, prints markdown tables and writes them into
docs/benchmarks.md, and exits 1 if a check failed. The processes' logs stay in the run folder
it prints; every database is dropped and every process stopped after each size.
"""

import argparse
import contextlib
import http.client
import itertools
import json
import random
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

from bench import statement
from bench.cpu import CpuTimes
from bench.memory import PeakSampler
from bench.scale_report import (
    Export,
    Imported,
    Job,
    Latency,
    Size,
    Undo,
    differences,
    figures_section,
    size_table,
    write_doc,
)
from bench.stack import (
    BIG_CHANGES,
    FINAL,
    Client,
    Endpoint,
    Services,
    Stats,
    View,
    claimed_redis_db,
    cpb,
    cpb_run,
    create_token,
    district,
    flush_redis,
    machine,
    stack_env,
    start_services,
)
from shared.imports.demo import write_demo_bundle
from tests.support.processes import wait_until
from tests.support.services import libpq_url, postgres_database

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)
JOB_TIMEOUT = 4 * 3600.0  # seconds: a generous bound on any one batch
POLL_SECONDS = 0.1  # how often the timing client polls a batch
POLLERS = 4
POLLER_SECONDS = 0.25
SUBMIT_SECONDS = 2.0
IDLE_SECONDS = 10.0  # of polls with nothing running, for comparison
DOWNLOAD_BLOCK = 1 << 20

T = TypeVar("T")


def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C: the processes stop and the scratch databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_dir = Path(tempfile.mkdtemp(prefix="cpb-scale-"))
    print(f"command: `{shlex.join(sys.orig_argv)}`")
    print(f"machine: {machine()}")
    print(f"logs: {run_dir}", flush=True)
    sizes: list[Size] = []
    with claimed_redis_db(args.redis_db) as broker_url:
        for students in args.sizes:
            sizes.append(measure_size(students, args.seed, broker_url, run_dir / str(students)))
            print(f"\n{size_table(sizes[-1])}", flush=True)
    section = figures_section(sizes, server=sizes[0].server)
    print(f"\n{section}")
    if args.write is not None:
        write_doc(args.write, section)
        print(f"wrote {args.write}")
    problems = [f"N={size.students}: {problem}" for size in sizes for problem in size.problems]
    for problem in problems:
        print(f"FAILED: {problem}", file=sys.stderr)
    return 1 if problems else 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale",
        description="The product at 10k, 100k and 1M students, against one SQL statement.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add(
        "--sizes",
        type=lambda text: [int(size) for size in text.split(",")],
        default=list(DEFAULT_SIZES),
        help="district sizes (students), comma-separated",
    )
    add("--seed", type=int, default=1, help="`cpb seed --seed`")
    add(
        "--redis-db",
        type=int,
        default=13,
        choices=range(1, 16),
        metavar="{1..15}",
        help="database of the Redis on 127.0.0.1:6379, flushed before and after",
    )
    add("--write", type=Path, default=Path("docs/benchmarks.md"), help="the page to update")
    add("--no-write", dest="write", action="store_const", const=None, help="only print")
    return parser.parse_args()


def say(students: int, text: str) -> None:
    print(f"[{students}] {text}", flush=True)


# --- one size ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Base:
    """The seeded, vacuumed database every run of a size copies."""

    students: int
    url: str  # SQLAlchemy form
    token: str
    year: str
    school: str  # the small batches' school
    as_of: date
    seed_seconds: float
    server: str  # PostgreSQL's version and memory settings


def measure_size(students: int, seed: int, broker_url: str, size_dir: Path) -> Size:
    """Every figure of one size; its databases dropped and its processes stopped on return."""
    size_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        base = seed_base(stack, students, seed, broker_url, size_dir)
        copies: list[float] = []

        def on_copy(label: str, run: Callable[[str], T]) -> T:
            with copied(base.url, label) as (url, seconds):
                say(students, f"copy for the {label} run: {seconds:.1f} s")
                copies.append(seconds)
                return run(url)

        statement_seconds, counts, statement_cpu = on_copy(
            "statement", lambda url: run_statement(url, base)
        )
        say(students, f"statement: {statement_seconds:.1f} s")
        one, one_latency = on_copy("1w", lambda url: one_worker(url, base, broker_url, size_dir))
        two, latency, undo, export = on_copy(
            "2w", lambda url: two_workers(url, base, broker_url, size_dir)
        )
        imported = run_import(students, seed, broker_url, size_dir)
    return Size(
        students=students,
        server=base.server,
        seed_seconds=base.seed_seconds,
        copy_seconds=copies,
        statement_seconds=statement_seconds,
        statement_counts=counts,
        statement_cpu=statement_cpu,
        one=one,
        two=two,
        one_latency=one_latency,
        latency=latency,
        undo=undo,
        export=export,
        imported=imported,
    )


def seed_base(
    stack: contextlib.ExitStack, students: int, seed: int, broker_url: str, size_dir: Path
) -> Base:
    """A scratch database (dropped by `stack`) with the district, a user and a token, vacuumed."""
    url = stack.enter_context(postgres_database())
    env = stack_env(url, broker_url, size_dir)
    cpb(env, "db", "upgrade")
    seeded = cpb_run(env, "seed", "--students", str(students), "--seed", str(seed))
    say(students, f"seed: {seeded.seconds:.1f} s")
    token = create_token(env)
    started = time.monotonic()
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("VACUUM (ANALYZE)")
        server = server_facts(connection)
    say(students, f"VACUUM (ANALYZE): {time.monotonic() - started:.1f} s")
    year, schools = district(url)
    # The API's default as-of date; the batches name it, so that they and the statement agree.
    as_of = datetime.now(ZoneInfo(env.get("CPB_TIMEZONE") or "UTC")).date()
    return Base(students, url, token, year, schools[0], as_of, seeded.seconds, server)


def server_facts(connection: psycopg.Connection[Any]) -> str:
    facts = []
    for name in ("server_version", "shared_buffers", "work_mem"):
        row = connection.execute(f"SHOW {name}").fetchone()
        facts.append(f"{name} {'?' if row is None else row[0]}")
    return f"PostgreSQL {', '.join(facts)}"


@contextlib.contextmanager
def copied(base_url: str, label: str) -> Iterator[tuple[str, float]]:
    """A copy of the base database, dropped at the end: its URL, and the seconds it took. A
    CHECKPOINT after it writes out what the copy dirtied, so that the run does not pay for it.
    Nothing may be connected to the base meanwhile."""
    base = make_url(base_url)
    name = f"{base.database}_{label}"
    admin = libpq_url(base.set(database="postgres").render_as_string(hide_password=False))
    started = time.monotonic()
    try:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{base.database}"')
            connection.execute("CHECKPOINT")
        seconds = time.monotonic() - started
        yield base.set(database=name).render_as_string(hide_password=False), seconds
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_statement(url: str, base: Base) -> tuple[float, statement.Counts, str]:
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        started, cpu = time.monotonic(), CpuTimes.now()
        counts = statement.apply(connection, BIG_CHANGES, base.year, base.as_of)
        return time.monotonic() - started, counts, CpuTimes.now().since(cpu)


def one_worker(url: str, base: Base, broker_url: str, size_dir: Path) -> tuple[Job, Latency]:
    with contextlib.ExitStack() as run:
        services, sampler = start_run(run, url, base, broker_url, size_dir / "1w", 1)
        job, latency = run_job_under_load(services, base, sampler)
    say(base.students, f"job, 1 worker, under load: {job.seconds:.1f} s")
    return job, latency


def two_workers(
    url: str, base: Base, broker_url: str, size_dir: Path
) -> tuple[Job, Latency, Undo, Export]:
    """The job under load, then its undo and the exports, all on one copy."""
    students = base.students
    with contextlib.ExitStack() as run:
        services, sampler = start_run(run, url, base, broker_url, size_dir / "2w", 2)
        job, latency = run_job_under_load(services, base, sampler)
        say(students, f"job, 2 workers, under load: {job.seconds:.1f} s")
        undo = run_undo(services.client, job, sampler)
        say(students, f"undo: {undo.seconds:.1f} s")
        export = run_export(services, url, broker_url, size_dir, sampler)
        say(students, f"export: {export.seconds:.1f} s, API: {export.api_seconds:.1f} s")
    return job, latency, undo, export


def start_run(
    run: contextlib.ExitStack,
    url: str,
    base: Base,
    broker_url: str,
    run_dir: Path,
    concurrency: int,
) -> tuple[Services, PeakSampler]:
    """The services on a copy, with a sampler of their peak memory; all stopped by `run`."""
    run_dir.mkdir(exist_ok=True)
    flush_redis(broker_url)  # nothing left from the run before
    env = stack_env(url, broker_url, run_dir)
    services = start_services(run, env, base.token, run_dir, worker_concurrency=concurrency)
    groups = {"worker": services.worker.pid, "web": services.web.pid}
    return services, run.enter_context(PeakSampler(groups))


# --- the job -----------------------------------------------------------------------------------


def submit_big(client: Client, base: Base) -> tuple[int, float]:
    """POST the district-wide batch: its id, and the time just before the POST."""
    body = {"mode": "studentContact", "scope": {"schoolYear": base.year}}
    started = time.monotonic()
    batch_id = client.submit(
        "POST /batches (big)", {**body, "asOf": str(base.as_of), "changes": BIG_CHANGES}
    )
    if batch_id is None:
        raise SystemExit(f"the district-wide batch was refused: {client.stats.samples}")
    return batch_id, started


def wait_final(client: Client, batch_id: int, interval: float) -> View:
    def final() -> View:
        view = client.view(batch_id)
        return view if view["status"] in FINAL else {}  # falsy: poll again

    return wait_until(final, JOB_TIMEOUT, interval, f"batch {batch_id} to finish")


def job_of(view: View, seconds: float, peaks: dict[str, float], cpu: str) -> Job:
    ran = None
    if view["startedAt"] and view["finishedAt"]:
        finished = datetime.fromisoformat(view["finishedAt"])
        ran = (finished - datetime.fromisoformat(view["startedAt"])).total_seconds()
    result = view["result"] or {}
    return Job(
        batch_id=view["id"],
        status=view["status"],
        seconds=seconds,
        ran_seconds=ran,
        targets=result.get("targets", 0),
        counts=result.get("counts", {}),
        errors=result.get("errors", []),
        worker_peak_mb=peaks["worker"],
        web_peak_mb=peaks["web"],
        cpu=cpu,
    )


def run_job_under_load(services: Services, base: Base, sampler: PeakSampler) -> tuple[Job, Latency]:
    """The job while pollers read it and a submitter queues small batches behind it; then the
    small batches are waited for, and the pollers run once more with nothing else to do, for
    the latency of an idle system."""
    client = services.client
    cpu = CpuTimes.now()
    batch_id, started = submit_big(client, base)
    stats, done = Stats(), threading.Event()
    submitted: list[int] = []  # the small batches

    def submitter() -> None:
        own = Client(client.port, base.token, stats)
        scope = {"schoolId": base.school, "schoolYear": base.year}
        body = {"mode": "studentContact", "scope": scope, "asOf": str(base.as_of)}
        for n in itertools.count():
            changes = {"email": {"behavior": "on" if n % 2 == 0 else "off"}}
            if (small_id := own.submit("submit", {**body, "changes": changes})) is not None:
                submitted.append(small_id)
            if done.wait(SUBMIT_SECONDS):
                return

    threads = pollers(client, base.token, batch_id, stats, done)
    threads.append(threading.Thread(target=submitter))
    for thread in threads:
        thread.start()
    try:
        view = wait_final(client, batch_id, POLL_SECONDS)
        seconds, cpu_shares = time.monotonic() - started, CpuTimes.now().since(cpu)
    finally:  # also on Ctrl-C or SIGTERM, or the threads would keep the process alive
        done.set()
        for thread in threads:
            thread.join()
    small = [wait_final(client, small_id, 0.5) for small_id in submitted]
    job = job_of(view, seconds, sampler.sample(), cpu_shares)
    return job, Latency.of(stats, small, idle_polls(client, base.token, batch_id))


def pollers(
    client: Client, token: str, batch_id: int, stats: Stats, done: threading.Event
) -> list[threading.Thread]:
    """POLLERS threads (not started) that read the batch every POLLER_SECONDS until `done`."""

    def poller() -> None:
        own = Client(client.port, token, stats)
        done.wait(random.uniform(0, POLLER_SECONDS))  # out of step with the others
        while not done.is_set():
            own.call("poll", "GET", f"/api/v1/batches/{batch_id}")
            done.wait(POLLER_SECONDS)

    return [threading.Thread(target=poller) for _ in range(POLLERS)]


def idle_polls(client: Client, token: str, batch_id: int) -> Endpoint:
    """The pollers for IDLE_SECONDS with no batch running."""
    stats, done = Stats(), threading.Event()
    threads = pollers(client, token, batch_id, stats, done)
    for thread in threads:
        thread.start()
    done.wait(IDLE_SECONDS)
    done.set()
    for thread in threads:
        thread.join()
    return stats.endpoints.get("poll", Endpoint())


# --- undo, exports, import ---------------------------------------------------------------------


def run_undo(client: Client, job: Job, sampler: PeakSampler) -> Undo:
    started = time.monotonic()
    status, content = client.call("undo", "POST", f"/api/v1/batches/{job.batch_id}/undo")
    if status != 202:
        return Undo(0.0, 0.0, [f"undo of batch {job.batch_id}: {status} {content[:300]!r}"])
    view = wait_final(client, int(json.loads(content)["id"]), POLL_SECONDS)
    seconds = time.monotonic() - started
    peak = sampler.sample()["worker"]
    counts = (view["result"] or {}).get("counts")
    if view["status"] != "succeeded":
        return Undo(seconds, peak, [f"the undo {view['status']}: {view['result']}"])
    if counts != job.counts:
        found = f"the undo against the batch (undo/batch): {differences(counts or {}, job.counts)}"
        return Undo(seconds, peak, [found])
    return Undo(seconds, peak, [])


def run_export(
    services: Services, url: str, broker_url: str, size_dir: Path, sampler: PeakSampler
) -> Export:
    """`cpb export preferences` into a file (counted, then deleted), and the same through the
    API, while the web still runs."""
    out = size_dir / "preferences.csv"
    try:
        ran = cpb_run(
            stack_env(url, broker_url, size_dir), "export", "preferences", "--out", str(out)
        )
        rows, size_mb = count_lines(out) - 1, out.stat().st_size / 2**20
    finally:
        out.unlink(missing_ok=True)
    started = time.monotonic()
    status, api_bytes = download(services.client, "/api/v1/preferences.csv")
    api_seconds = time.monotonic() - started
    problems = [] if status == 200 else [f"GET /api/v1/preferences.csv: {status}"]
    return Export(
        seconds=ran.seconds,
        rows=rows,
        mb=size_mb,
        peak_mb=ran.peak_rss_mb,
        api_seconds=api_seconds,
        api_mb=api_bytes / 2**20,
        web_peak_mb=sampler.sample()["web"],
        problems=problems,
    )


def count_lines(path: Path) -> int:
    with path.open("rb") as stream:
        return sum(block.count(b"\n") for block in iter(lambda: stream.read(DOWNLOAD_BLOCK), b""))


def download(client: Client, path: str) -> tuple[int, int]:
    """GET `path` on a connection of its own, read in blocks and dropped: (status, bytes)."""
    connection = http.client.HTTPConnection("127.0.0.1", client.port, timeout=600)
    try:
        connection.request("GET", path, headers=client.headers)
        response = connection.getresponse()
        size = sum(len(block) for block in iter(lambda: response.read(DOWNLOAD_BLOCK), b""))
        return response.status, size
    finally:
        connection.close()


def run_import(students: int, seed: int, broker_url: str, size_dir: Path) -> Imported:
    """The same district written as a CSV bundle, imported into an empty database; both
    deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix="bundle-", dir=size_dir) as folder:
        started = time.monotonic()
        write_demo_bundle(Path(folder), students, seed)
        bundle_seconds = time.monotonic() - started
        say(students, f"bundle written: {bundle_seconds:.1f} s")
        with postgres_database() as url:
            env = stack_env(url, broker_url, size_dir)
            cpb(env, "db", "upgrade")
            ran = cpb_run(env, "import", "csv", folder)
    return Imported(bundle_seconds=bundle_seconds, seconds=ran.seconds, peak_mb=ran.peak_rss_mb)


if __name__ == "__main__":
    sys.exit(main())
