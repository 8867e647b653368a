"""The OneRoster import against the native import of the same synthetic district: for each size,
`cpb seed --format native|oneroster --out DIR` writes the district both ways (same seed, same
day), and `cpb import csv DIR` and `cpb import oneroster DIR` each load it into an empty
scratch database on PostgreSQL, timed, with the command's peak memory (ru_maxrss). Prints the
figures and rewrites its section of docs/benchmarks.md (unless --no-write).

    .venv/bin/python -m bench.oneroster_import [--sizes 100000,1000000] [--no-write]
"""

import argparse
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.doc_section import write_section
from bench.scale_report import commit
from bench.stack import Ran, cpb, cpb_run, machine, stack_env
from tests.support.postgres_service import postgres_database
from tests.support.processes import REPO_ROOT

COMMAND = ".venv/bin/python -m bench.oneroster_import"
DOC = REPO_ROOT / "docs" / "benchmarks.md"
HEADING = "## The OneRoster import"
BEGIN, END = "<!-- oneroster-import:begin -->", "<!-- oneroster-import:end -->"
TARGET_RATIO = 1.5


@dataclass(frozen=True)
class Size:
    students: int
    native: Ran
    oneroster: Ran
    native_mb: float  # the bundles on disk
    oneroster_mb: float

    @property
    def ratio(self) -> float:
        return self.oneroster.seconds / self.native.seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    args = parser.parse_args(argv)
    sizes = [measure(int(n), args.seed) for n in args.sizes.split(",")]
    section = figures_section(sizes)
    print(section)
    if not args.no_write:
        write_doc(section)


def say(text: str) -> None:
    print(f"[oneroster] {text}", flush=True)


def measure(students: int, seed: int) -> Size:
    with tempfile.TemporaryDirectory(prefix="cpb-oneroster-") as scratch:
        runs: dict[str, tuple[Ran, float]] = {}
        for fmt, importer in (("native", "csv"), ("oneroster", "oneroster")):
            folder = Path(scratch) / fmt
            with postgres_database() as url:
                env = stack_env(url, "redis://unused", Path(scratch))
                cpb(env, "db", "upgrade")
                cpb(env, "seed", "--students", str(students), "--seed", str(seed),
                    "--format", fmt, "--out", str(folder))  # fmt: skip
                megabytes = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
                ran = cpb_run(env, "import", importer, str(folder))
                say(f"{students} {fmt}: {ran.seconds:.1f} s, {ran.peak_rss_mb:.0f} MB")
                runs[fmt] = (ran, megabytes)
    return Size(students, runs["native"][0], runs["oneroster"][0], runs["native"][1],
                runs["oneroster"][1])  # fmt: skip


def figures_section(sizes: list[Size]) -> str:
    header = "| figure | " + " | ".join(f"{s.students:,}" for s in sizes) + " |"
    rows = [
        ("bundle on disk MB (native / OneRoster)", lambda s: f"{s.native_mb:.0f} / "
         f"{s.oneroster_mb:.0f}"),
        ("`cpb import csv` s", lambda s: f"{s.native.seconds:.1f}"),
        ("`cpb import oneroster` s", lambda s: f"{s.oneroster.seconds:.1f}"),
        ("OneRoster / native time", lambda s: f"{s.ratio:.2f}"),
        ("peak RSS MB (native / OneRoster)", lambda s: f"{s.native.peak_rss_mb:.0f} / "
         f"{s.oneroster.peak_rss_mb:.0f}"),
    ]  # fmt: skip
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
        f"Target: the OneRoster import at most {TARGET_RATIO} times the native import's time, "
        "its memory flat: "
        + "; ".join(
            f"{s.students:,}: {s.ratio:.2f} ({'met' if s.ratio <= TARGET_RATIO else 'missed'})"
            for s in sizes
        )
        + ".",
    ]
    return "\n".join(lines)


def write_doc(section: str) -> None:
    write_section(DOC, HEADING, (BEGIN, END), section)


if __name__ == "__main__":
    main()
