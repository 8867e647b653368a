"""docs/reliability.md: every fault in its table names a test that exists, and every fault test
is in the table."""

import re

from tests.support.docs import DOCS, functions_of
from tests.test_faults import POINTS, POISONED, VICTIMS

DOC = DOCS / "reliability.md"
CASES = {
    "test_a_worker_killed": [f"{point}-{victim}" for point in POINTS for victim in VICTIMS],
    "test_a_step_that_kills_its_worker_every_time_fails_its_batch": list(POISONED),
}
# `test_name`, `test_name[point-victim]` (both in test_faults.py), or `tests/file.py::test_name`
REFERENCE = re.compile(r"`(?:tests/(test_\w+\.py)::)?(test_\w+)(?:\[([^\]]+)\])?`")


def fault_rows() -> list[str]:
    text = DOC.read_text()
    table = text[text.index("## Faults, promises and tests") : text.index("## Under load")]
    return [line for line in table.splitlines() if line.startswith("| ") and "---" not in line][1:]


def test_every_fault_names_a_test_that_exists():
    rows = fault_rows()
    assert len(rows) == 17
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
        function for file_name, function, _ in REFERENCE.findall(DOC.read_text()) if not file_name
    }
    tests = {name for name in functions_of("test_faults.py") if name.startswith("test_")}
    assert named == tests
