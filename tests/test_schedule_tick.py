"""The tick, with the clock passed in, on both databases: each due time is recorded once, the
latest missed run within the catch-up window runs and the rest are skipped, a paused schedule
writes nothing, and a run that cannot run fails with its reason while the others run."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from shared.batches.pipeline.messages import plan
from shared.core.db import SessionFactory
from shared.core.errors import Conflict
from shared.core.vocabulary import Role
from shared.filters.service import delete_filter
from shared.models import Batch, User
from tests.support.schedules import (
    local,
    make_schedule,
    patch_schedule,
    runs_of,
    schedule_row,
    tick_at,
)
from tests.support.web import add_user, audit_rows

SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def district(web_district: dict[str, int]) -> dict[str, int]:
    return web_district


def test_a_due_run_makes_one_batch_however_often_it_is_ticked(session_factory: SessionFactory):
    schedule_id = make_schedule(session_factory, local("2026-07-31T12:00"))

    assert tick_at(session_factory, local("2026-08-01T01:59:59")).messages == []
    first = tick_at(session_factory, local("2026-08-01T02:00:20"))
    again = tick_at(session_factory, local("2026-08-01T02:00:20"))
    later = tick_at(session_factory, local("2026-08-01T02:00:50"))

    assert runs_of(session_factory, schedule_id) == [("2026-08-01 02:00 CDT", "ran", True, None)]
    with session_factory() as session:
        batch = session.scalars(select(Batch)).one()
        owner = session.get_one(User, batch.submitted_by)
    assert (first.ran, again.ran, later.ran) == (1, 0, 0)
    assert first.messages == [plan(batch.id)]
    assert (batch.as_of, batch.status, batch.dry_run, owner.username) == (
        date(2026, 8, 1),
        "queued",
        False,
        "admin",
    )
    assert batch.changes["email"]["priority"] == "on"


def test_missed_runs_within_the_window_catch_up_once(session_factory: SessionFactory):
    schedule_id = make_schedule(session_factory, local("2026-08-01T03:00"))

    report = tick_at(session_factory, local("2026-08-03T08:00"))

    assert (report.ran, report.skipped) == (1, 1)
    assert runs_of(session_factory, schedule_id) == [
        (
            "2026-08-02 02:00 CDT",
            "skipped",
            False,
            "missed: a later run of the same schedule (2026-08-03 02:00 CDT) was due by the time "
            "this one could run",
        ),
        ("2026-08-03 02:00 CDT", "ran", True, None),
    ]


def test_missed_runs_beyond_the_window_are_all_skipped(session_factory: SessionFactory):
    schedule_id = make_schedule(session_factory, local("2026-08-01T03:00"), catchUpHours=1.5)

    report = tick_at(session_factory, local("2026-08-03T03:30") + SECOND)

    assert (report.ran, report.skipped, report.messages) == (0, 2, [])
    assert [run[:3] for run in runs_of(session_factory, schedule_id)] == [
        ("2026-08-02 02:00 CDT", "skipped", False),
        ("2026-08-03 02:00 CDT", "skipped", False),
    ]
    assert runs_of(session_factory, schedule_id)[1][3] == (
        "missed by 1 h 30 min 1 s, more than the catch-up window of 1 h 30 min"
    )


def test_a_paused_schedule_writes_no_runs_and_resumes_at_its_next_due_time(
    session_factory: SessionFactory,
):
    schedule_id = make_schedule(session_factory, local("2026-08-01T03:00"))
    patch_schedule(session_factory, schedule_id, local("2026-08-01T04:00"), enabled=False)

    assert tick_at(session_factory, local("2026-08-03T02:30")).skipped == 0
    patch_schedule(session_factory, schedule_id, local("2026-08-03T02:45"), enabled=True)
    assert tick_at(session_factory, local("2026-08-03T23:00")).ran == 0
    report = tick_at(session_factory, local("2026-08-04T02:00:30"))

    assert report.ran == 1
    assert runs_of(session_factory, schedule_id) == [("2026-08-04 02:00 CDT", "ran", True, None)]
    actions = [row[1] for row in audit_rows(session_factory) if row[2] == f"schedule:{schedule_id}"]
    assert actions == ["schedule.create", "schedule.pause", "schedule.resume", "schedule.run"]


def test_a_new_rule_counts_from_the_change_and_never_runs_a_due_time_twice(
    session_factory: SessionFactory,
):
    schedule_id = make_schedule(session_factory, local("2026-08-01T01:00"))
    tick_at(session_factory, local("2026-08-01T02:00:10"))
    patch_schedule(
        session_factory,
        schedule_id,
        local("2026-08-01T02:00:20"),
        rule={"yearly": {"month": 8, "day": 1, "time": "02:00"}},
    )
    patch_schedule(
        session_factory, schedule_id, local("2026-08-01T02:00:30"), rule={"cron": "0 * * * *"}
    )

    tick_at(session_factory, local("2026-08-01T03:00:10"))

    assert runs_of(session_factory, schedule_id) == [
        ("2026-08-01 02:00 CDT", "ran", True, None),
        ("2026-08-01 03:00 CDT", "ran", True, None),
    ]


def test_a_run_whose_owner_became_a_viewer_fails_and_the_next_schedule_runs(
    session_factory: SessionFactory,
):
    add_user(session_factory, "nora", "district_admin")
    failing = make_schedule(session_factory, local("2026-08-01T01:00"), username="nora")
    running = make_schedule(session_factory, local("2026-08-01T01:00"), name="other")
    with session_factory.begin() as session:
        session.scalars(select(User).where(User.username == "nora")).one().role = Role.VIEWER

    report = tick_at(session_factory, local("2026-08-01T02:00:10"))

    assert (report.ran, report.failed) == (1, 1)
    assert runs_of(session_factory, failing) == [
        (
            "2026-08-01 02:00 CDT",
            "failed",
            False,
            "its owner 'nora' is a viewer now, and a viewer may not run batches; an admin must "
            "save its template again to own it",
        )
    ]
    assert runs_of(session_factory, running) == [("2026-08-01 02:00 CDT", "ran", True, None)]
    failed = [row for row in audit_rows(session_factory) if row[1] == "schedule.run.failed"]
    assert [(row[0], row[2], row[3]["status"]) for row in failed] == [
        (None, f"schedule:{failing}", "failed")
    ]
    assert schedule_row(session_factory, failing).enabled is True


def test_an_enabled_schedules_filter_stays_and_a_paused_ones_goes_then_its_run_fails(
    session_factory: SessionFactory, district: dict[str, int]
):
    filter_id = district["student_filter"]
    schedule_id = make_schedule(
        session_factory,
        local("2026-08-01T01:00"),
        name="grades",
        template={
            "mode": "studentContact",
            "scope": {"schoolYear": "2025-26"},
            "filterId": filter_id,
            "changes": {"email": {"emergency": "on"}},
        },
    )
    with session_factory.begin() as session, pytest.raises(Conflict) as refused:
        delete_filter(session, filter_id, user=None)
    assert str(refused.value) == (
        f"filter {filter_id} is used by the enabled schedule 'grades' (id {schedule_id}); pause "
        "that schedule or give it another filter first"
    )

    patch_schedule(session_factory, schedule_id, local("2026-08-01T01:10"), enabled=False)
    with session_factory.begin() as session:
        delete_filter(session, filter_id, user=None)
    patch_schedule(session_factory, schedule_id, local("2026-08-01T01:20"), enabled=True)
    tick_at(session_factory, local("2026-08-01T02:00:10"))

    assert runs_of(session_factory, schedule_id) == [
        (
            "2026-08-01 02:00 CDT",
            "failed",
            False,
            f"no filter with id {filter_id} (at filterId)",
        )
    ]
