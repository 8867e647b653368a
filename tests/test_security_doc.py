"""docs/security.md: every ASVS requirement in its table names at least one test, and every test
it names exists (the suite runs them, so each one named passes when this suite does)."""

import re

from tests.support.docs import DOCS, TESTS, functions_of

DOC = DOCS / "security.md"
REFERENCE = re.compile(r"`(test_\w+\.py)::(test_\w+)`")


def requirement_rows() -> list[str]:
    text = DOC.read_text()
    table = text[text.index("## ASVS") :]
    return [line for line in table.splitlines() if re.match(r"\| \d", line)]


def test_every_requirement_names_a_test_that_exists():
    rows = requirement_rows()
    assert len(rows) >= 30
    for row in rows:
        references = REFERENCE.findall(row)
        assert references, f"no test named for: {row[:60]}"
        for file_name, function in references:
            assert (TESTS / file_name).exists(), f"{file_name} (in: {row[:40]})"
            assert function in functions_of(file_name), f"{file_name}::{function}"
