"""bench.scale's tables and targets, and the page they are written into (the figures per size:
bench/scale_figures.py)."""

import shlex
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.client import Endpoint, percentile
from bench.scale_figures import Imported, Job, Size
from bench.stack import machine
from bench.statement import Counts
from tests.support.processes import REPO_ROOT

BEGIN, END = "<!-- figures:begin -->", "<!-- figures:end -->"
NOT_MEASURED = "not measured"
TITLE = """# Benchmarks

The product on PostgreSQL at 10,000, 100,000 and 1,000,000 students, measured by
`python -m bench.scale`, which writes the figures between the markers below.
"""
METHOD = """Each size is seeded into a scratch database (`cpb seed`), which gets a user and a
token and is then vacuumed and analyzed (`VACUUM (ANALYZE)`: the steady state autovacuum
reaches). Every run starts from a copy of it (`CREATE DATABASE ... TEMPLATE`, then a
`CHECKPOINT`). The batch is the district-wide Student Messenger Contacts batch of
`bench.stack.BIG_CHANGES`, as of today: the *statement* is the same batch as one SQL statement
(`bench/statement.py`, no change log, no undo); the *job* is the product's, timed from just
before `POST /api/v1/batches` until a poll every 0.1 s sees it succeeded (in brackets: its
startedAt to finishedAt). With 1 worker process and with 2 alike, 4 pollers read the batch every
0.25 s and a submitter queues a one-school batch every 2 s meanwhile (their latency is the API's
under load), and once every batch has finished, the pollers run 10 s more with nothing else
running, for comparison; after the run with 2, the undo and the exports follow on the same copy.
Peak RSS is the largest VmHWM of a single process of the service (the Celery worker's main
process and pool; gunicorn's master and workers), sampled every 0.5 s, or a command's own
ru_maxrss. *CPUs* is how the machine's cores spent the run (/proc/stat): busy, or idle waiting
for the disk. Times in seconds, memory in MB of 2^20 bytes."""


# --- tables ------------------------------------------------------------------------------------


def secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}" if value < 10 else f"{value:.1f}"


def ms(endpoint: Endpoint) -> str:
    ordered = sorted(endpoint.latencies_ms)
    p50, p99 = percentile(ordered, 0.5), percentile(ordered, 0.99)
    requests = len(ordered) + endpoint.exceptions
    return f"{p50:.0f} / {p99:.0f} ({requests} requests, {endpoint.non_2xx} non-2xx)"


def changed(counts: Counts) -> int:
    return sum(n for reasons in counts.values() for n in reasons.values() if n is not None)


def job_secs(job: Job) -> str:
    return f"{secs(job.seconds)} ({secs(job.ran_seconds)})"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.2f}" if denominator else "-"


def mbs(*values: float) -> str:
    return " / ".join(f"{value:.0f}" for value in values)


def export_cell(size: Size) -> str:
    export = size.export
    return f"{secs(export.seconds)}, {export.rows}, {export.mb:.0f}, {export.peak_mb:.0f}"


def cpus(size: Size) -> str:
    return " / ".join((size.statement_cpu, size.one.cpu, size.two.cpu))


def import_cell(imported: Imported) -> str:
    return f"{secs(imported.seconds)}, {imported.peak_mb:.0f}"


ROWS: list[tuple[str, Callable[[Size], str]]] = [
    ("`cpb seed` s", lambda s: secs(s.seed_seconds)),
    ("copy of the base s (statement / 1w / 2w)", lambda s: " / ".join(map(secs, s.copy_seconds))),
    ("statement s", lambda s: secs(s.statement_seconds)),
    ("job 1 worker s (started to finished)", lambda s: job_secs(s.one)),
    ("job 2 workers s (started to finished)", lambda s: job_secs(s.two)),
    ("CPUs during the statement / job 1w / job 2w", lambda s: cpus(s)),
    ("job / statement (1w)", lambda s: ratio(s.one.seconds, s.statement_seconds)),
    ("job / statement (2w)", lambda s: ratio(s.two.seconds, s.statement_seconds)),
    ("batch targets (contacts)", lambda s: str(s.two.targets)),
    ("values changed", lambda s: str(changed(s.two.counts))),
    ("submit p50 / p99 ms (1w)", lambda s: ms(s.one_latency.submit)),
    ("poll p50 / p99 ms (1w)", lambda s: ms(s.one_latency.poll)),
    ("submit p50 / p99 ms (2w)", lambda s: ms(s.latency.submit)),
    ("poll p50 / p99 ms (2w)", lambda s: ms(s.latency.poll)),
    ("poll p50 / p99 ms, nothing running", lambda s: ms(s.latency.idle_poll)),
    (
        "small batches queued (1w / 2w)",
        lambda s: f"{s.one_latency.small_batches} / {s.latency.small_batches}",
    ),
    ("worker peak RSS MB (1w / 2w)", lambda s: mbs(s.one.worker_peak_mb, s.two.worker_peak_mb)),
    ("web peak RSS MB (1w / 2w)", lambda s: mbs(s.one.web_peak_mb, s.two.web_peak_mb)),
    ("undo s", lambda s: secs(s.undo.seconds)),
    ("undo / job (2w)", lambda s: ratio(s.undo.seconds, s.two.seconds)),
    ("worker peak RSS MB to the end of the undo (2w)", lambda s: mbs(s.undo.worker_peak_mb)),
    ("`cpb export preferences` s, rows, MB, peak RSS MB", export_cell),
    ("API export s, MB", lambda s: f"{secs(s.export.api_seconds)}, {s.export.api_mb:.0f}"),
    ("web peak RSS MB after the API export", lambda s: mbs(s.export.web_peak_mb)),
    ("CSV bundle written s", lambda s: secs(s.imported.bundle_seconds)),
    ("`cpb import csv` s, peak RSS MB", lambda s: import_cell(s.imported)),
]


def size_table(size: Size) -> str:
    lines = [f"### {size.students:,} students", "", "| figure | value |", "|---|---:|"]
    lines += [f"| {name} | {cell(size)} |" for name, cell in ROWS]
    return "\n".join(lines)


def sizes_table(sizes: list[Size]) -> str:
    header = " | ".join(f"{size.students:,}" for size in sizes)
    lines = [f"| figure | {header} |", "|---|" + "---:|" * len(sizes)]
    lines += [f"| {name} | {' | '.join(cell(s) for s in sizes)} |" for name, cell in ROWS]
    return "\n".join(lines)


# --- targets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    figure: str
    target: str
    measured: float | None  # None: a size it needs was not measured
    limit: float  # met if measured <= limit
    shown: str = "{:.2f}"  # the format of the measured value

    def row(self) -> str:
        if self.measured is None:
            return f"| {self.figure} | {self.target} | {NOT_MEASURED} | - |"
        met = "yes" if self.measured <= self.limit else "no"
        return f"| {self.figure} | {self.target} | {self.shown.format(self.measured)} | {met} |"


def p99(endpoint: Endpoint) -> float:
    return percentile(sorted(endpoint.latencies_ms), 0.99)


def targets(sizes: list[Size]) -> list[Target]:
    by = {size.students: size for size in sizes}
    big, mid, small = by.get(1_000_000), by.get(100_000), by.get(10_000)

    def at(figure: Callable[[Size], float]) -> float | None:
        return None if big is None else figure(big)

    def drift(figure: Callable[[Size], float]) -> float | None:
        """How far the figure at 1M is from the one at 10k, as a share of the latter."""
        return None if big is None or small is None else abs(figure(big) / figure(small) - 1)

    growth = None if big is None or mid is None else big.two.seconds / mid.two.seconds
    seconds, mb, share = "{:.1f} s", "{:.0f} MB", "{:.0%} apart"
    return [
        Target("`cpb seed` at 1M", "≤ 180 s", at(lambda s: s.seed_seconds), 180, seconds),
        Target(
            "job / statement at 1M, 2 workers",
            "≤ 1.0",
            at(lambda s: s.two.seconds / s.statement_seconds),
            1.0,
        ),
        Target("job at 1M / job at 100k, 2 workers", "≤ 11", growth, 11),
        Target("worker peak RSS at 1M", "≤ 250 MB", at(lambda s: s.worker_peak_mb), 250, mb),
        Target(
            "worker peak RSS at 1M against 10k",
            "within 20%",
            drift(lambda s: s.worker_peak_mb),
            0.2,
            share,
        ),
        Target(
            "submit p99 during the 1M batch",
            "≤ 50 ms",
            at(lambda s: p99(s.latency.submit)),
            50,
            "{:.0f} ms",
        ),
        Target(
            "poll p99 during the 1M batch",
            "≤ 20 ms",
            at(lambda s: p99(s.latency.poll)),
            20,
            "{:.0f} ms",
        ),
        Target("`cpb import csv` at 1M", "≤ 120 s", at(lambda s: s.imported.seconds), 120, seconds),
        Target(
            "`cpb export preferences` at 1M", "≤ 60 s", at(lambda s: s.export.seconds), 60, seconds
        ),
        Target(
            "export peak RSS at 1M against 10k",
            "within 20%",
            drift(lambda s: s.export.peak_mb),
            0.2,
            share,
        ),
        Target(
            "undo / job at 1M, 2 workers",
            "≤ 1.5",
            at(lambda s: s.undo.seconds / s.two.seconds),
            1.5,
        ),
    ]


def targets_table(sizes: list[Size]) -> str:
    lines = ["| figure | target | measured | met |", "|---|---|---:|---|"]
    return "\n".join(lines + [target.row() for target in targets(sizes)])


# --- the page ----------------------------------------------------------------------------------


def figures_section(sizes: list[Size], server: str) -> str:
    """What goes between the markers: when, how, where, and the tables."""
    problems = [f"- N={size.students}: {problem}" for size in sizes for problem in size.problems]
    parts = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        f"- command: `{shlex.join(sys.orig_argv)}`",
        f"- machine: {machine()}",
        f"- {server}",
        f"- commit: {commit()}",
        "",
        METHOD,
        "",
        sizes_table(sizes),
        "",
        targets_table(sizes),
    ]
    if problems:
        parts += ["", "Failed checks:", "", *problems]
    return "\n".join(parts)


def commit() -> str:
    """HEAD's short hash, and whether the tree has changes not committed."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    head = git("rev-parse", "--short", "HEAD")
    if not head:
        return "unknown (not a git checkout)"
    return f"{head} (with uncommitted changes)" if git("status", "--porcelain") else head


def write_doc(path: Path, section: str) -> None:
    """Replace what is between the markers; a page without them gets them at its end, a new
    page a title and a sentence before them."""
    text = path.read_text() if path.exists() else TITLE
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = f"{head}{BEGIN}\n{section}\n{END}{rest.split(END, 1)[1]}"
    else:
        text = f"{text.rstrip()}\n\n{BEGIN}\n{section}\n{END}\n"
    path.write_text(text)
