"""Every conformance case, step by step, on PostgreSQL: targets, counts and kept exactly, and the
final export row for row. Chunks of 3 targets, so every case runs in several chunks."""

import pytest

from shared.imports.native import import_bundle
from shared.people.export import iter_preferences_csv
from tests.conformance import CONFORMANCE_DIR, Case, case_names, request_of, sorted_rows
from tests.support.driver import run_batch

CASES = case_names()


@pytest.mark.skipif(not CASES, reason=f"no conformance cases at {CONFORMANCE_DIR}")
@pytest.mark.parametrize("name", CASES or ["none"])
def test_conformance_case(name, pg_session_factory):
    case = Case(CONFORMANCE_DIR / name)
    with pg_session_factory.begin() as session:
        import_bundle(session, case.bundle)
    filter_ids = case.create_filters(pg_session_factory)
    for step in case.steps():
        view = run_batch(pg_session_factory, request_of(step, filter_ids), chunk_size=3)
        expected = step["expected"]
        assert view["status"] == "succeeded", f"step {step['step']}"
        got = {key: view["result"][key] for key in ("targets", "counts", "kept")}
        want = {key: expected[key] for key in ("targets", "counts", "kept")}
        assert got == want, f"step {step['step']}"
    with pg_session_factory.begin() as session:
        exported = "".join(iter_preferences_csv(session))
    assert sorted_rows(exported) == case.final_rows()
