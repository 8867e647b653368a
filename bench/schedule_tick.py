"""The schedules' tick with 1,000 enabled schedules, 20 due at the same minute D: in process with
the clock passed in (ticks with nothing due, the tick at D + 5 s, the one after), then the delay
from due time to the batch starting on the real stack (`celery worker` and `celery beat`). Prints
the figures and rewrites its section of docs/benchmarks.md (unless --no-write)."""

import argparse
import contextlib
import gc
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench.doc_section import write_section
from bench.scale_report import commit
from bench.stack import claimed_redis_db, cpb, cpb_run, machine, service, stack_env
from shared.batches.actions import cancel_batch
from shared.core.contract import parse
from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.core.migrate import upgrade
from shared.models import Batch, Calendar, Schedule, ScheduleRun, User
from shared.schedules.request import SchedulePatch, ScheduleRequest
from shared.schedules.service import create_schedule, update_schedule
from shared.schedules.tick import TickReport, tick
from tests.support.processes import REPO_ROOT, WORKER_READY, celery_worker_command, wait_until
from tests.support.services import postgres_server

ZONE = ZoneInfo("America/Chicago")
ENV = {"CPB_TIMEZONE": "America/Chicago", "CPB_SCHEDULE_TICK_SECONDS": "30"}
SCHEDULES, DUE, IDLE_TICKS = 1000, 20, 30
USERNAME = "ticks"
T0 = datetime(2026, 3, 3, 1, 0, tzinfo=ZONE)  # a Tuesday, CST: the schedules are made then
D = datetime(2026, 3, 3, 2, 30, tzinfo=ZONE)  # the minute the 20 are due
DUE_RULE = {"cron": "30 2 * * *"}
# None is due from T0 to D + 35 s; on the real stack, none is due but in a rare minute.
QUIET_CRONS = ("0 3 * * 1", "30 2 * * 1", "45 23 * * 0", "15 4 1 * *", "0 2 1 8 *", "0 6 * * 6")
COMMAND = ".venv/bin/python -m bench.schedule_tick"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
HEADING = "## The schedules' tick"
ADMIN = select(User).where(User.username == USERNAME)
BEGIN, END = "<!-- schedule-tick:begin -->", "<!-- schedule-tick:end -->"
METHOD = """A district of 1,000 students (`cpb seed`) on PostgreSQL, in America/Chicago, with 1,000
enabled schedules made by `create_schedule` at T0 =
{t0}: 980 yearly, cron and once rules not due before D + 35 s, and 20 with `30 2 * * *`,
due at D = {d}. Each template is a one-calendar batch with one reason on. The ticks run in
process with the clock passed in (`tick(factory, now, zone)`, after one to warm up), each after
a full garbage collection, untimed, so that none pays for the garbage of the one before. The
stack rows: a real `celery worker` (2 processes) and one `celery beat` (a tick every 30 s) on
Redis, the 20 given a once rule at the next minute boundary at least 20 s away. With a 30 s
tick a run is claimed 0 to 30 s after its due time (one sample of beat's phase per run of this
benchmark) plus the wait for a free worker process; its batch starts once those queued before
it have finished (one batch runs at a time)."""


@dataclass(frozen=True)
class Figures:
    create_s: float
    idle_ms: list[float]
    due_ms: float
    after_ms: float
    claim_s: list[float]  # due time to submitted_at, per batch
    start_s: list[float]  # due time to started_at
    finish_s: float  # due time to the last finished_at
    other_runs: int  # runs of the 980 during the stack phase (0 but in a rare minute)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--redis-db", type=int, default=12, help="Redis database (default 12)")
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    args = parser.parse_args(argv)
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(scratch_database())
        broker_url = stack.enter_context(claimed_redis_db(args.redis_db))
        run_dir = Path(tempfile.mkdtemp(prefix="cpb-ticks-"))  # the services' logs, kept
        env = stack_env(url, broker_url, run_dir) | ENV
        engine = make_engine(url)
        stack.callback(engine.dispose)
        factory = make_session_factory(engine)
        upgrade(engine)
        say(f"logs: {run_dir}; seed: {cpb_run(env, 'seed', '--students', '1000').seconds:.1f} s")
        create_user = f"users create {USERNAME} --role district_admin --password-stdin".split()
        cpb(env, *create_user, stdin=secrets.token_urlsafe(24) + "\n")
        started = time.perf_counter()
        due_ids = make_schedules(factory)
        create_s = time.perf_counter() - started
        idle_ms, due_ms, after_ms = measure_ticks(factory)
        claim_s, start_s, finish_s, other_runs = on_the_stack(env, run_dir, factory, due_ids)
    figures = Figures(create_s, idle_ms, due_ms, after_ms, claim_s, start_s, finish_s, other_runs)
    section = figures_section(figures)
    print(section)
    if not args.no_write:
        write_doc(section)
        say(f"wrote {DOC.relative_to(REPO_ROOT)}")


def say(text: str) -> None:
    print(f"[ticks] {text}", flush=True)


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """An empty database, cpb_bench_ticks_<random>, dropped at the end (whatever happened)."""
    with postgres_server() as admin:
        name = f"cpb_bench_ticks_{secrets.token_hex(4)}"
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        try:
            url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
            yield url.render_as_string(hide_password=False)
        finally:
            with psycopg.connect(admin, autocommit=True, connect_timeout=5) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def quiet_rule(n: int) -> dict[str, Any]:
    """A yearly rule on a date other than 3 March, a rare cron rule, or a once rule in 2027-29."""
    at = f"{n % 24:02d}:{n * 7 % 60:02d}"
    if n % 3 == 0:
        return {"yearly": {"month": 4 + n % 9, "day": 1 + n % 28, "time": at}}
    if n % 3 == 1:
        return {"cron": QUIET_CRONS[n % len(QUIET_CRONS)]}
    return {"once": f"{2027 + n % 3}-{1 + n % 12:02d}-{1 + n % 28:02d}T{at}"}


def make_schedules(factory: SessionFactory) -> list[int]:
    """The 1,000 schedules, made at T0 in one transaction; every 50th is due at D. Each
    template is one calendar of the current year, one reason of one channel on."""
    due_ids = []
    with factory.begin() as session:
        user = session.scalars(ADMIN).one()
        year = session.scalar(select(func.max(Calendar.school_year)))
        calendars = list(
            session.scalars(select(Calendar.ext_id).where(Calendar.school_year == year))
        )
        for n in range(SCHEDULES):
            due = n % (SCHEDULES // DUE) == SCHEDULES // DUE - 1
            template = {
                "mode": "studentContact",
                "scope": {"calendarId": calendars[n % len(calendars)]},
                "changes": {"email": {("emergency", "attendance", "priority")[n % 3]: "on"}},
            }
            body = {"name": f"bench {n}", "template": template}
            request = parse(ScheduleRequest, body | {"rule": DUE_RULE if due else quiet_rule(n)})
            schedule = create_schedule(session, request, user=user, now=T0.astimezone(UTC))
            if due:
                due_ids.append(schedule.id)
    return due_ids


def timed_tick(factory: SessionFactory, moment: datetime) -> tuple[float, TickReport]:
    gc.collect()
    started = time.perf_counter()
    report = tick(factory, moment.astimezone(UTC), ZONE)
    return (time.perf_counter() - started) * 1000, report


def measure_ticks(factory: SessionFactory) -> tuple[list[float], float, float]:
    """One tick to warm up (not counted), 30 ticks 30 s apart ending 30 s before D, the tick
    at D + 5 s and the one at D + 35 s, in ms; each report is checked."""
    timed_tick(factory, T0 + timedelta(minutes=1))
    idle_ms = []
    for n in range(IDLE_TICKS, 0, -1):
        ms, report = timed_tick(factory, D - timedelta(seconds=30 * n))
        expect(report, 0, f"the tick at D - {30 * n} s")
        idle_ms.append(ms)
    due_ms, report = timed_tick(factory, D + timedelta(seconds=5))
    expect(report, DUE, "the tick at D + 5 s")
    after_ms, report = timed_tick(factory, D + timedelta(seconds=35))
    expect(report, 0, "the tick at D + 35 s")
    return idle_ms, due_ms, after_ms


def expect(report: TickReport, ran: int, what: str) -> None:
    if (report.ran, report.failed, report.skipped, report.errors) != (ran, 0, 0, 0):
        raise SystemExit(f"{what}: expected {ran} runs, got {report}")


def on_the_stack(
    env: Mapping[str, str], run_dir: Path, factory: SessionFactory, due_ids: list[int]
) -> tuple[list[float], list[float], float, int]:
    """The delays of the 20 batches on the real stack, and the other schedules' runs meanwhile."""
    rebased = datetime.now(UTC)
    with factory.begin() as session:
        user = session.scalars(ADMIN).one()
        for batch_id in list(session.scalars(select(Batch.id))):  # the 20 of the measured tick
            cancel_batch(session, batch_id, user=user, now=rebased)
        # Resuming moves every mark to now: no catch-up of the months since T0.
        for schedule_id in list(session.scalars(select(Schedule.id))):
            for enabled in (False, schedule_id not in due_ids):
                patch = parse(SchedulePatch, {"enabled": enabled})
                update_schedule(session, schedule_id, patch, user=user, now=rebased)
    worker = celery_worker_command(concurrency=2)
    beat = [sys.executable, "-m", "celery", "-A", "worker", "beat", "--loglevel=INFO"]
    beat.append(f"--schedule={run_dir / 'celerybeat-schedule'}")
    with contextlib.ExitStack() as services:
        services.enter_context(service("worker", worker, env, run_dir, WORKER_READY))
        services.enter_context(service("beat", beat, env, run_dir, r"beat: Starting\.\.\."))
        now = datetime.now(UTC)
        due_at = (now + timedelta(seconds=80)).replace(second=0, microsecond=0)
        rule = {"once": due_at.astimezone(ZONE).strftime("%Y-%m-%dT%H:%M")}
        with factory.begin() as session:
            user = session.scalars(ADMIN).one()
            for schedule_id in due_ids:
                patch = parse(SchedulePatch, {"rule": rule, "enabled": True})
                update_schedule(session, schedule_id, patch, user=user, now=now)
        say(f"the 20 are due at {due_at.astimezone(ZONE):%H:%M:%S %Z}; waiting for their batches")
        rows = wait_until(
            lambda: finished(factory, due_at),
            (due_at - now).total_seconds() + 240,
            1.0,
            f"the 20 batches to finish (logs in {run_dir})",
        )
    with factory() as session:
        other_runs = session.scalar(
            select(func.count())
            .select_from(ScheduleRun)
            .where(ScheduleRun.due_at > rebased, ScheduleRun.schedule_id.not_in(due_ids))
        )
    if {str(row.status) for row in rows} != {"succeeded"}:
        raise SystemExit(f"not every batch succeeded: {[str(row.status) for row in rows]}")

    claim_s = sorted((row.submitted_at - due_at).total_seconds() for row in rows)
    start_s = sorted((row.started_at - due_at).total_seconds() for row in rows)
    finish_s = max((row.finished_at - due_at).total_seconds() for row in rows)
    return claim_s, start_s, finish_s, other_runs or 0


def finished(factory: SessionFactory, due_at: datetime) -> list[Any]:
    """The batches of the runs due at `due_at` once there are 20, all finished; else []."""
    with factory() as session:
        rows = session.execute(
            select(Batch.submitted_at, Batch.started_at, Batch.finished_at, Batch.status)
            .join(ScheduleRun, ScheduleRun.batch_id == Batch.id)
            .where(ScheduleRun.due_at == due_at)
        ).all()
    return list(rows) if sum(row.finished_at is not None for row in rows) == DUE else []


def spread(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def figures_section(figures: Figures) -> str:
    idle = sorted(figures.idle_ms)
    median, p95 = statistics.median(idle), statistics.quantiles(idle, n=20)[-1]
    per_run = (figures.due_ms - median) / DUE
    rows = [
        ("enabled schedules (due at the same minute)", f"{SCHEDULES:,} ({DUE})"),
        ("making them (`create_schedule`, one transaction) s", f"{figures.create_s:.1f}"),
        (f"tick, nothing due: median / p95 ms ({IDLE_TICKS} ticks)", f"{median:.1f} / {p95:.1f}"),
        ("the same per enabled schedule µs", f"{median / SCHEDULES * 1000:.0f}"),
        (f"tick at D + 5 s ({DUE} runs and batches) ms", f"{figures.due_ms:.1f}"),
        ("the same, beyond the idle median, per run ms", f"{per_run:.1f}"),
        ("tick at D + 35 s, nothing due ms", f"{figures.after_ms:.1f}"),
        ("stack: due time to `submitted_at` (claimed) s, min / med / max", spread(figures.claim_s)),
        ("stack: due time to `started_at` s, min / med / max", spread(figures.start_s)),
        ("stack: due time to the last `finished_at` s", f"{figures.finish_s:.1f}"),
        ("stack: runs of the other 980 meanwhile", str(figures.other_runs)),
    ]
    return "\n".join(
        [
            f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
            f"- command: `{COMMAND}`",
            f"- machine: {machine()}",
            f"- commit: {commit()}",
            "",
            METHOD.format(t0=f"{T0:%Y-%m-%d %H:%M %Z}", d=f"{D:%H:%M %Z}"),
            "",
            "| figure | value |",
            "|---|---:|",
            *(f"| {name} | {value} |" for name, value in rows),
        ]
    )


def write_doc(section: str) -> None:
    write_section(DOC, HEADING, (BEGIN, END), section)


if __name__ == "__main__":
    main()
