"""Previews and apply-after-preview (docs/batches.md), through the service layer and the pipeline
steps in this process, on SQLite and PostgreSQL: a preview counts exactly what applying it does
(keeping guardians' choices or not) and changes nothing, shows a sample of who would change, and
is applied once; and what a batch keeping guardians' choices counts. The same behaviours through
the API and a real worker: tests/test_safer_batches.py.
"""

from typing import Any

import pytest

from shared.batches.actions import apply_preview
from shared.batches.pipeline.messages import plan
from shared.core.errors import Conflict
from tests.support.driver import run_apply, run_batch, save_filter, submit, view_of
from tests.support.results import result_table
from tests.support.undo_cancel import BATCH, SCOPE, export, setters, values
from tests.support.undo_cancel import district as district  # the fixture, for pytest to find here

MODES: list[dict[str, Any]] = [
    BATCH,
    {"mode": "student", "scope": SCOPE, "changes": {"cellPhone": {"general": "on"}}},
    {
        "mode": "student",
        "scope": SCOPE,
        "changes": {"householdPhone": {"priority": "on"}, "email": {"attendance": "on"}},
    },
    {  # the filter is made in the test: the messenger contacts, g1 and g2
        "mode": "census",
        "changes": {"householdPhone": {"general": "on"}, "email": {"attendance": "on"}},
    },
]


@pytest.mark.parametrize("keep", [False, True], ids=["overwrite", "keep-guardian"])
@pytest.mark.parametrize(
    "request_", MODES, ids=["studentContact", "student", "student-household", "census"]
)
def test_a_preview_counts_exactly_what_applying_it_does_and_changes_nothing(
    district, request_, keep
):
    body = request_ | {"keepGuardianChoices": keep}
    if body["mode"] == "census":
        with district.begin() as session:
            criteria = {"messengerContacts": True}
            contacts = {"name": "contacts", "kind": "census", "criteria": criteria}
            body["filterId"] = save_filter(session, contacts).id
    before = export(district)
    preview = run_batch(district, body | {"dryRun": True})
    assert export(district) == before
    # g1 and g2, or the students s1, s2 and s3
    assert preview["result"]["targets"] == (3 if body["mode"] == "student" else 2)
    applied = run_apply(district, preview["id"])
    assert applied["dryRun"] is False
    for key in ("targets", "counts", "kept"):
        assert applied["result"][key] == preview["result"][key]
    assert view_of(district, preview["id"])["appliedAs"] == applied["id"]


def test_keep_guardian_choices_leaves_the_guardians_value_and_counts_it(district):
    view = run_batch(district, BATCH | {"keepGuardianChoices": True})
    # g1's email attendance was set on by a guardian: left, and counted as kept
    assert view["result"]["counts"] == result_table(
        householdPhone__emergency=1, cellPhone__general=1, email__emergency=2, email__attendance=0
    )
    assert view["result"]["kept"] == result_table(
        householdPhone__emergency=0, cellPhone__general=0, email__emergency=0, email__attendance=1
    )
    assert values(district, "g1", "email")["attendance"] is True
    assert setters(district, "g1", "email")["attendance"] == "guardian"


def test_a_preview_shows_a_sample_of_who_would_change(district):
    preview = run_batch(district, BATCH | {"dryRun": True})
    assert preview["result"]["sample"] == [
        {
            "subjectType": "household",
            "subjectId": "h1",
            "name": "Household h1",
            "channel": "householdPhone",
            "changes": {"emergency": "on"},
        },
        {
            "subjectType": "person",
            "subjectId": "g1",
            "name": "F Lg1",
            "channel": "cellPhone",
            "changes": {"general": "on"},
        },
        {
            "subjectType": "person",
            "subjectId": "g1",
            "name": "F Lg1",
            "channel": "email",
            "changes": {"emergency": "on", "attendance": "off"},
        },
        {
            "subjectType": "person",
            "subjectId": "g2",
            "name": "F Lg2",
            "channel": "email",
            "changes": {"emergency": "on"},
        },
    ]
    assert "sample" not in run_batch(district, BATCH)["result"]


def test_a_preview_is_applied_once_and_only_a_finished_preview(district):
    preview = run_batch(district, BATCH | {"dryRun": True})
    with district.begin() as session:
        first = apply_preview(session, preview["id"], user=None)
        again = apply_preview(session, preview["id"], user=None)
        assert (first.created, first.messages) == (True, (plan(first.batch.id),))
        assert (again.created, again.messages, again.batch.id) == (False, (), first.batch.id)
    real = run_batch(district, BATCH)
    with district.begin() as session:
        queued_id = submit(session, BATCH | {"dryRun": True}).batch.id
    for batch_id, message in (
        (real["id"], f"batch {real['id']} is not a preview"),
        (queued_id, f"preview {queued_id} is queued; apply a preview that succeeded"),
    ):
        with district.begin() as session, pytest.raises(Conflict) as refused:
            apply_preview(session, batch_id, user=None)
        assert str(refused.value) == message
