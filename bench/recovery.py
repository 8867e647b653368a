"""Recovery with the default settings on a district of real size, as an operator would break it:
gunicorn, a Celery worker and beat started as the README says, a district-wide batch, and in the
middle of it one of these, after a clean run of the same batch on a copy of the same data:

- `worker`: SIGKILL of the worker's process group (main process and pool), and a new worker
  started one second later, as a supervisor would;
- `queue`: Redis loses its queue (FLUSHDB of its database: what a restart without persistence
  leaves), while the worker and beat run on.

For each it prints the seconds from the damage until the batch moved again (its next chunk
committed) and until it finished, and checks that it ended exactly as the clean run: status,
counts, kept counts, progress, and the number of rows of its change log.

    .venv/bin/python -m bench.recovery [--students 40000] [--faults worker,queue]

It needs the PostgreSQL and Redis of the development set-up (127.0.0.1:5432 and :6379), makes
and drops its own scratch databases, and claims Redis database 12.
"""

import argparse
import contextlib
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.scale_base import Base, copied, say, seed_base
from bench.scale_job import submit_big
from bench.stack import claimed_redis_db, flush_redis, machine, service, stack_env, start_services
from tests.support.processes import WORKER_READY, celery_worker_command, kill_hard, wait_until

FAULTS = ("worker", "queue")
SAME = ("status", "progress", "result")  # of the batch's view: what must equal the clean run


def run(base: Base, broker_url: str, run_dir: Path, fault: str | None) -> dict[str, Any]:
    """The district-wide batch on a copy of the base, damaged by `fault` half-way (None: clean).
    Returns its final view, the rows of its change log, and the seconds measured."""
    with copied(base.url, fault or "clean") as (url, _), contextlib.ExitStack() as stack:
        flush_redis(broker_url)
        env = stack_env(url, broker_url, run_dir)
        services = start_services(stack, env, base.token, run_dir, worker_concurrency=2)
        client = services.client
        batch_id, _ = submit_big(client, base)
        total = wait_until(lambda: client.view(batch_id)["progress"]["total"], 120, 0.1, "plan")

        def done() -> int:
            view = client.view(batch_id)
            return -1 if view["status"] != "running" else int(view["progress"]["done"])

        wait_until(lambda: done() >= total // 4, 300, 0.05, "a quarter of the chunks")
        damaged = time.monotonic()
        if fault == "worker":
            kill_hard(services.worker)
            time.sleep(1)
            worker = celery_worker_command(concurrency=2)
            stack.enter_context(service("worker-again", worker, env, run_dir, WORKER_READY))
        elif fault == "queue":
            flush_redis(broker_url)
        # Moved again: a chunk committed that was not in flight when the damage was done (the
        # worker's two pool processes go on with theirs when only the queue is lost).
        before = done() + (2 if fault == "queue" else 0)
        moved = _seconds_until(lambda: done() > before, damaged)
        view = wait_until(lambda: _final(client.view(batch_id)), 600, 0.1, "the batch to end")
        finished = time.monotonic() - damaged
        status, content = client.call("checks", "GET", f"/api/v1/batches/{batch_id}/changes.csv")
        if status != 200:
            raise SystemExit(f"changes.csv: {status}")
    rows = content.count(b"\n") - 1
    return {"view": view, "rows": rows, "moved": moved, "finished": finished, "chunks": total}


def _seconds_until(moved: Callable[[], bool], since: float) -> float:
    wait_until(moved, 600, 0.05, "the batch to move again")
    return time.monotonic() - since


def _final(view: dict[str, Any]) -> dict[str, Any] | None:
    return view if view["status"] in ("succeeded", "failed", "cancelled") else None


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.recovery", description=__doc__)
    parser.add_argument("--students", type=int, default=40_000)
    parser.add_argument(
        "--faults", default=",".join(FAULTS), help="comma-separated: " + ", ".join(FAULTS)
    )
    parser.add_argument("--redis-db", type=int, default=12)
    args = parser.parse_args()
    faults = [fault for fault in args.faults.split(",") if fault]
    print(f"machine: {machine()}; default settings; {args.students} students")
    failed = False
    with (
        tempfile.TemporaryDirectory(prefix="cpb-recovery-") as scratch,
        claimed_redis_db(args.redis_db) as broker_url,
        contextlib.ExitStack() as stack,
    ):
        base = seed_base(stack, args.students, 1, broker_url, Path(scratch))
        clean = run(base, broker_url, Path(scratch), None)
        say(
            args.students,
            f"clean: {clean['chunks']} chunks, {clean['finished']:.1f} s after a quarter",
        )
        expected = {name: clean["view"][name] for name in SAME} | {"rows": clean["rows"]}
        for fault in faults:
            damaged = run(base, broker_url, Path(scratch), fault)
            got = {name: damaged["view"][name] for name in SAME} | {"rows": damaged["rows"]}
            exact = got == expected
            failed |= not exact
            say(
                args.students,
                f"{fault}: moved again after {damaged['moved']:.1f} s, finished after "
                f"{damaged['finished']:.1f} s; exactly the clean run: {'yes' if exact else 'NO'}",
            )
            if not exact:
                print(json.dumps({"expected": expected, "got": got}, indent=1))
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
