"""Reach on the synthetic district: for each size, `cpb seed` loads the district into an empty
scratch database on PostgreSQL, then the report (`GET /api/v1/reach`'s query, every reason for
every school and the district) and the unreached list for Emergency (as the CSV streams it) are
timed in this process, each five times, as of today. Prints the figures and rewrites its section
of docs/benchmarks.md (unless --no-write).

    .venv/bin/python -m bench.reach [--sizes 100000,1000000] [--no-write]
"""

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import text

from bench.doc_section import write_section
from bench.scale_report import commit
from bench.stack import cpb, machine, stack_env
from shared.core.db import make_engine, make_session_factory, read_session
from shared.people.reachability import reach_report, unreached
from tests.support.postgres_service import postgres_database
from tests.support.processes import REPO_ROOT

COMMAND = ".venv/bin/python -m bench.reach"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
HEADING = "## Reach"
BEGIN, END = "<!-- reach:begin -->", "<!-- reach:end -->"
TARGET_SECONDS = 2.0
RUNS = 5


@dataclass(frozen=True)
class Size:
    students: int
    enrolled: int  # the report's district figure
    unreached: int  # Emergency
    report: list[float]
    listing: list[float]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    args = parser.parse_args(argv)
    sizes = [measure(int(n)) for n in args.sizes.split(",")]
    section = figures_section(sizes)
    print(section)
    if not args.no_write:
        write_section(DOC, HEADING, (BEGIN, END), section)


def say(text: str) -> None:
    print(f"[reach] {text}", flush=True)


def timed(action: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def measure(students: int) -> Size:
    today = date.today()
    with tempfile.TemporaryDirectory(prefix="cpb-reach-") as scratch, postgres_database() as url:
        env = stack_env(url, "redis://unused", Path(scratch))
        cpb(env, "db", "upgrade")
        cpb(env, "seed", "--students", str(students))
        engine = make_engine(url)
        factory = make_session_factory(engine)
        try:
            with factory.begin() as session:
                session.execute(text("ANALYZE"))

            def report() -> int:
                with read_session(factory) as session:
                    return reach_report(session, today, None).district.students

            def listing() -> int:
                with read_session(factory) as session:
                    return sum(1 for _ in unreached(session, today, "emergency", None))

            report_runs, listing_runs = [], []
            enrolled = nobody = 0
            for _ in range(RUNS):
                seconds, enrolled = timed(report)
                report_runs.append(seconds)
                seconds, nobody = timed(listing)
                listing_runs.append(seconds)
        finally:
            engine.dispose()
    report_s, listing_s = statistics.median(report_runs), statistics.median(listing_runs)
    say(f"{students}: report {report_s:.2f} s, unreached {listing_s:.2f} s ({enrolled} enrolled)")
    return Size(students, enrolled, nobody, report_runs, listing_runs)


def figures_section(sizes: list[Size]) -> str:
    header = "| figure | " + " | ".join(f"{s.students:,}" for s in sizes) + " |"
    rows = [
        ("students enrolled today (the report's district)", lambda s: f"{s.enrolled:,}"),
        ("the report, median s (min-max)", lambda s: _spread(s.report)),
        ("the unreached list for Emergency, median s (min-max)", lambda s: _spread(s.listing)),
        ("students nobody reaches for Emergency", lambda s: f"{s.unreached:,}"),
    ]
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{COMMAND}`",
        f"- machine: {machine()}",
        f"- commit: {commit()}",
        "",
        header,
        "|---|" + "---:|" * len(sizes),
        *("| " + name + " | " + " | ".join(cell(s) for s in sizes) + " |" for name, cell in rows),
        "",
        f"Target: the report under {TARGET_SECONDS:.0f} s at 1,000,000 students: "
        + "; ".join(
            f"{s.students:,}: {statistics.median(s.report):.2f} s "
            f"({'met' if statistics.median(s.report) < TARGET_SECONDS else 'missed'})"
            for s in sizes
        )
        + ".",
    ]
    return "\n".join(lines)


def _spread(runs: list[float]) -> str:
    return f"{statistics.median(runs):.2f} ({min(runs):.2f}-{max(runs):.2f})"


if __name__ == "__main__":
    main()
