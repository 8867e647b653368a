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

This module runs the sizes and the runs; the base and its copies are bench/scale_base.py's, the
job under load bench/scale_job.py's, the undo and the exports bench/scale_undo_export.py's, the
figures bench/scale_figures.py's and the tables and the page bench/scale_report.py's.
"""

import argparse
import contextlib
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import psycopg

from bench import statement
from bench.cpu import CpuTimes
from bench.memory import PeakSampler
from bench.scale_base import Base, copied, say, seed_base
from bench.scale_figures import Export, Imported, Job, Latency, Size, Undo
from bench.scale_job import run_job_under_load
from bench.scale_report import figures_section, size_table, write_doc
from bench.scale_undo_export import run_export, run_undo
from bench.stack import (
    BIG_CHANGES,
    Services,
    claimed_redis_db,
    cpb,
    cpb_run,
    flush_redis,
    machine,
    stack_env,
    start_services,
)
from shared.imports.demo import write_demo_bundle
from tests.support.services import libpq_url, postgres_database

DEFAULT_SIZES = (10_000, 100_000, 1_000_000)

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


# --- one size ----------------------------------------------------------------------------------


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
