"""bench.scale's base database of one size: seeded, with a user and a token, vacuumed and
analyzed, and copied for each run; and its progress lines, one per step of a size."""

import contextlib
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy.engine import make_url

from bench.stack import cpb, cpb_run, create_token, district, stack_env
from tests.support.services import libpq_url, postgres_database


def say(students: int, text: str) -> None:
    print(f"[{students}] {text}", flush=True)


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
