"""The API under load: many pollers and a few submitters while a district-wide batch runs.

`.venv/bin/python -m bench.load [--students N] [--pollers P] [--submitters S] [--seconds T]`

It builds the production shape on loopback by itself: a scratch PostgreSQL database (dropped
at the end), a Redis database claimed the way test sessions claim theirs, `cpb db upgrade`,
`cpb seed`, a user and a token, gunicorn with web/gunicorn_conf.py, a Celery worker and beat.
Then it submits one district-wide batch; while it runs, P pollers (threads, one keep-alive
connection each) read it and the batch list, and S submitters each flip three reasons of one
school on and off, their batches queueing behind the big one. Once every batch has finished,
it checks that no change was lost or counted twice (bench/load_checks.py), prints markdown
tables, and exits 1 on any 5xx or failed check. The processes' logs stay in the run folder it
prints.
"""

import argparse
import contextlib
import random
import re
import shlex
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench.client import Client, Stats, View, percentile
from bench.load_checks import all_final, short, stamp, total, verify
from bench.stack import (
    BIG_CHANGES,
    claimed_redis_db,
    cpb,
    create_token,
    district,
    machine,
    stack_env,
    start_services,
)
from tests.support.services import postgres_database

# The big batch (stack.BIG_CHANGES) sets other reasons than the submitters flip, so no batch
# overwrites another's values: re-run as a preview, the big batch and the last one must change
# nothing.
FLIPPED = (("email", "behavior"), ("cellPhone", "general"), ("householdPhone", "teacher"))


def main() -> int:
    args = parse_args()
    # SIGTERM unwinds like Ctrl-C: the processes stop and the scratch database is dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    run_dir = Path(tempfile.mkdtemp(prefix="cpb-load-"))
    print(f"command: `{shlex.join(sys.orig_argv)}`")
    print(f"machine: {machine()}")
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
) -> tuple[Client, str, str, list[str], float]:
    """Database, broker, district, token and processes, all undone by `stack`. Returns a client
    for set-up and checks, the token, the school year, the schools and the seeding time."""
    database_url = stack.enter_context(postgres_database())
    broker_url = stack.enter_context(claimed_redis_db(args.redis_db))
    env = stack_env(database_url, broker_url, run_dir)
    started = time.monotonic()
    cpb(env, "db", "upgrade")
    cpb(env, "seed", "--students", str(args.students))
    seed_seconds = time.monotonic() - started
    print(f"seeded {args.students} students in {seed_seconds:.1f} s", flush=True)
    token = create_token(env)
    year, schools = district(database_url)
    services = start_services(
        stack,
        env,
        token,
        run_dir,
        worker_concurrency=args.worker_concurrency,
        web_workers=args.web_workers,
    )
    return services.client, token, year, schools, seed_seconds


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
