"""docs/reliability.md: every fault in its table names a test that exists, every fault test is
in the table, and the measured recovery table (written by `make faults`) has every fault test,
each within its bound."""

import re

from tests.support.docs import DOCS, functions_of
from tests.test_faults import POINTS, POISONED, VICTIMS

DOC = DOCS / "reliability.md"
CASES = {
    "test_a_worker_killed": [f"{point}-{victim}" for point in POINTS for victim in VICTIMS],
    "test_a_step_that_kills_its_worker_every_time_fails_its_batch": list(POISONED),
    "test_beat_killed_mid_batch": ["beat", "beat and worker"],
}
FAULT_FILES = ("test_faults.py", "test_faults_recovery.py", "test_embedded_crash.py")
MEASURED = re.compile(
    r"^\| `(test_\w+\.py)::(test_\w+)(?:\[[^\]]+\])?` \| (.+) \| (.+) \| (\S+) \|$"
)
# `test_name`, `test_name[point-victim]` (both in test_faults.py), or `tests/file.py::test_name`
REFERENCE = re.compile(r"`(?:tests/(test_\w+\.py)::)?(test_\w+)(?:\[([^\]]+)\])?`")


def fault_rows() -> list[str]:
    text = DOC.read_text()
    table = text[text.index("## Faults, promises and tests") : text.index("## Recovery, measured")]
    return [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_every_fault_names_a_test_that_exists():
    rows = fault_rows()
    assert len(rows) == 22
    for row in rows:
        references = REFERENCE.findall(row)
        assert references, f"no test named for: {row[:60]}"
        for file_name, function, case in references:
            file_name = file_name or "test_faults.py"
            assert function in functions_of(file_name), f"{file_name}::{function}"
            if case:
                assert case in CASES[function], f"{function}[{case}]"


def test_every_fault_test_is_in_the_page():
    named = {
        (file_name or "test_faults.py", function)
        for file_name, function, _ in REFERENCE.findall(DOC.read_text())
    }
    for file_name in FAULT_FILES:
        tests = {name for name in functions_of(file_name) if name.startswith("test_")}
        assert {(file_name, name) for name in tests} <= named, file_name


def test_the_measured_recovery_covers_every_fault_test_within_15_s():
    text = DOC.read_text()
    section = text[text.index("<!-- faults:begin -->") : text.index("<!-- faults:end -->")]
    rows = [MEASURED.match(line) for line in section.splitlines() if line.startswith("| `")]
    assert all(rows), "a row the table's shape does not allow"
    measured = {(row[1], row[2]) for row in rows if row}
    for file_name in FAULT_FILES:
        tests = {name for name in functions_of(file_name) if name.startswith("test_")}
        assert {(file_name, name) for name in tests} <= measured, file_name
    for row in rows:
        assert row and (row[3], row[5]) in {("—", "—")} | {(row[3], "yes")}, row[0] if row else ""
        if row[3] != "—":
            assert float(row[3].split()[0]) <= 15.0, row[0]
