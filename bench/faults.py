"""`make faults`: the fault tests (`pytest -m faults`) run five times in a row, and the table of
docs/reliability.md written from what they recorded: for each fault, how long the batch took to
move again (a chunk committed, or a batch finalized) and to reach its final state, worst and best
of the runs, with the default settings.

    .venv/bin/python -m bench.faults [--runs 5] [--no-write]

Each run writes a JUnit report; each fault test records `moved_seconds` and `recovery_seconds`
in it (tests/support/fault_stack.py). A run with a failure is reported and makes the command
exit 1, and its times are not used.
"""

import argparse
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from bench.doc_section import write_section
from bench.scale_report import commit
from bench.stack import machine

DOC = Path("docs/reliability.md")
MARKERS = ("<!-- faults:begin -->", "<!-- faults:end -->")
BOUND_SECONDS = 15.0  # the promise: the batch moves again within this, with the defaults


@dataclass
class Run:
    seconds: float
    passed: int
    failed: list[str]
    # test -> (moved again, final state), None where the test does not measure it
    times: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)


def run_once(number: int, scratch: Path, only: str | None) -> Run:
    report = scratch / f"run-{number}.xml"
    command = [sys.executable, "-m", "pytest", "-m", "faults", "-q", "-p", "no:cacheprovider"]
    command += ["-o", "junit_family=xunit1"]  # the family that keeps recorded properties
    if only:
        command += ["-k", only]
    started = time.monotonic()
    subprocess.run([*command, f"--junitxml={report}"], check=False)
    run = Run(round(time.monotonic() - started), 0, [])
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname', '').rsplit('.', 1)[-1]}.py::{case.get('name')}"
        if case.find("failure") is not None or case.find("error") is not None:
            run.failed.append(name)
            continue
        if case.find("skipped") is not None:
            continue
        run.passed += 1
        recorded = {p.get("name"): p.get("value") for p in case.iter("property")}
        run.times[name] = (
            _seconds(recorded, "moved_seconds"),
            _seconds(recorded, "recovery_seconds"),
        )
    return run


def _seconds(recorded: dict[str | None, str | None], name: str) -> float | None:
    value = recorded.get(name)
    return None if value in (None, "None") else float(value or 0)


def span(values: list[float]) -> str:
    if not values:
        return "—"
    low, high = min(values), max(values)
    return f"{high:.1f}" if low == high else f"{high:.1f} ({low:.1f}–{high:.1f})"


def table(runs: list[Run]) -> str:
    good = [run for run in runs if not run.failed]
    moved: dict[str, list[float]] = defaultdict(list)
    final: dict[str, list[float]] = defaultdict(list)
    for run in good:
        for name, (moved_seconds, final_seconds) in run.times.items():
            final.setdefault(name, [])  # every test has a row, measured or not
            if moved_seconds is not None:
                moved[name].append(moved_seconds)
            if final_seconds is not None:
                final[name].append(final_seconds)
    lines = [
        f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
        "- command: `make faults` (`.venv/bin/python -m bench.faults`)",
        f"- machine: {machine()}",
        f"- commit: {commit()}",
        "- runs: "
        + ", ".join(
            f"{run.passed} passed{f', {len(run.failed)} failed' if run.failed else ''}"
            f" in {run.seconds} s"
            for run in runs
        ),
        "",
        f"Worst of {len(good)} runs, the range in brackets; seconds from the fault.",
        "",
        "| fault test | moved again (worst) | final state (worst) | within 15 s |",
        "|---|---:|---:|---|",
    ]
    for name in sorted(final):
        worst_moved = max(moved[name]) if moved[name] else None
        within = "—" if worst_moved is None else ("yes" if worst_moved <= BOUND_SECONDS else "NO")
        lines.append(f"| `{name}` | {span(moved[name])} | {span(final[name])} | {within} |")
    failures = sorted({name for run in runs for name in run.failed})
    if failures:
        lines += ["", "Failed in some run: " + ", ".join(f"`{name}`" for name in failures)]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--only", help="a pytest -k expression: some of the tests")
    parser.add_argument("--no-write", dest="write", action="store_false")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cpb-faults-") as scratch:
        runs = [run_once(number, Path(scratch), args.only) for number in range(1, args.runs + 1)]
    section = table(runs)
    print(section)
    if args.write:
        write_section(DOC, "## Recovery, measured", MARKERS, section)
    sys.exit(1 if any(run.failed for run in runs) else 0)


if __name__ == "__main__":
    main()
