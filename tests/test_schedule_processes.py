"""Schedules on the real stack: two beats, a beat down across two due times, a claimer killed
right after its claims commit, a run whose owner was made a viewer. The timeline itself
(tests/support/schedule_timeline.py) runs in the background from the start of the session;
this test, collected last, checks what it recorded.

Ticks that really run at the same time are tested in tests/test_schedule_tick_concurrency.py.
"""

import os
from zoneinfo import ZoneInfo

import pytest

from tests.support import schedule_timeline, services
from tests.support.schedule_timeline import SCHEDULES

pytestmark = pytest.mark.postgres

ZONE = ZoneInfo("America/Chicago")
VIEWER_REASON = (
    "its owner 'vic' is a viewer now, and a viewer may not run batches; an admin must save its "
    "template again to own it"
)
EXPECTED = {
    "every": ("skipped", "ran", "ran"),
    "short": ("skipped", "skipped", "ran"),
    "viewer": ("skipped", "failed", "failed"),
    "claimed": ("skipped", "ran", "ran"),
    "blocker": ("skipped", "ran", "ran"),
}


def test_due_runs_are_claimed_once_caught_up_and_survive_a_killed_claimer():
    seen = schedule_timeline.record()
    if isinstance(seen.error, services.Unavailable):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"a service is unavailable in CI: {seen.error}", pytrace=False)
        pytest.skip(f"a service is unavailable: {seen.error}")
    if seen.error is not None:
        raise seen.error
    assert seen.due and seen.runs is not None and seen.batches is not None
    d1, d2, d3 = seen.due

    assert [(name, due, status) for name, due, status, _ in seen.runs] == [
        (name, due, status)
        for name, statuses in EXPECTED.items()
        for due, status in zip(seen.due, statuses, strict=True)
    ]
    assert list(EXPECTED) == list(SCHEDULES)
    assert seen.caught_up == [run for run in seen.runs if run[1] != d3]
    reasons = {(name, due): reason for name, due, _, reason in seen.runs}
    assert reasons[("viewer", d2)] == reasons[("viewer", d3)] == VIEWER_REASON
    assert reasons[("short", d2)].startswith("missed by ")
    assert reasons[("short", d2)].endswith(", more than the catch-up window of 36 s")
    assert reasons[("every", d1)] == (
        "missed: a later run of the same schedule "
        f"({d2.astimezone(ZONE):%Y-%m-%d %H:%M %Z}) was due by the time this one could run"
    )
    assert seen.killed is not None and seen.killed != seen.worker
    # One batch per run that ran, each named by one run; all of them succeeded, those whose plan
    # the killed claimer never sent included.
    assert len(seen.batches) == 7
    assert seen.linked == sorted(batch_id for batch_id, _, _ in seen.batches)
    assert {status for _, status, _ in seen.batches} == {"succeeded"}
    assert {as_of for _, _, as_of in seen.batches} == {
        d2.astimezone(ZONE).date(),
        d3.astimezone(ZONE).date(),
    }
    assert seen.beat_logs is not None
    assert all("Sending due task schedules (schedules.tick)" in log for log in seen.beat_logs)
