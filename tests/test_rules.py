"""The rules of docs/batches.md on a small hand-built district, as of 2025-10-15, on SQLite and
PostgreSQL. Every expected number is worked out by hand in the comments next to it."""

from datetime import date

import pytest
from sqlalchemy import func, select

from shared.core.db import SessionFactory
from shared.core.errors import InvalidRequest
from shared.models import Batch, preferences
from tests.support.district import District
from tests.support.driver import TODAY, run_batch, save_filter, submit
from tests.support.results import Table, result_table

BEFORE, AFTER = date(2025, 10, 14), date(2025, 10, 16)


@pytest.fixture
def district(session_factory: SessionFactory) -> SessionFactory:
    with session_factory.begin() as session:
        d = District(session)
        a, b = d.school("A"), d.school("B")
        cal_a, cal_b = d.calendar("CAL-A", a), d.calendar("CAL-B", b)
        old_a = d.calendar("OLD-A", a, "2024-25", date(2024, 8, 20), date(2025, 6, 5))

        s1 = d.person("s1", cell_phone="1", email="s1@x")
        s2 = d.person("s2", cell_phone="2")
        s3 = d.person("s3", cell_phone="3")
        s4 = d.person("s4")  # no address at all
        s5 = d.person("s5", cell_phone="5")
        s6 = d.person("s6", cell_phone="6")
        d.enroll(s1, cal_a)
        d.enroll(s2, cal_a, grade="02", end=TODAY)  # ends today: still current
        d.enroll(s3, cal_a, end=BEFORE)  # ended yesterday
        d.enroll(s4, cal_a, start=AFTER)  # starts tomorrow: a future start counts
        d.enroll(s5, cal_b, grade="09")
        d.enroll(s6, old_a)

        p = d.person("p", email="p@x", cell_phone="10")  # parent of s1, s2 and s4; staff
        for student in (s1, s2, s4):
            d.relate(student, p)
        d.assign(p, a, start=TODAY)
        g_end_today = d.person("g-end-today", email="a@x")
        d.relate(s1, g_end_today, end=TODAY)
        d.relate(s1, d.person("g-ended", email="b@x"), end=BEFORE)
        g_start_today = d.person("g-start-today", email="c@x")
        d.relate(s1, g_start_today, start=TODAY)
        d.assign(g_start_today, a, start=AFTER)  # not staff yet
        d.relate(s1, d.person("g-future", email="d@x"), start=AFTER)
        d.relate(s1, d.person("g-not-messenger", email="e@x"), messenger=False)
        d.relate(s3, d.person("g-of-s3", email="f@x"))
        q = d.person("q", email="q@x")
        d.relate(s5, q)
        d.assign(q, b, end=BEFORE)  # no longer staff
        e1 = d.person("e1", email="e1@x")
        d.assign(e1)

        h1 = d.household("h1", phone="100")
        for member in (p, s1, s2):
            d.member(h1, member)
        h2 = d.household("h2", phone="200")
        d.member(h2, s2, end=BEFORE)
        d.member(h2, g_end_today)
        h3 = d.household("h3")  # no phone
        d.member(h3, s1)
        h4 = d.household("h4", phone="400")
        d.member(h4, s4, start=AFTER)
        h5 = d.household("h5", phone="500")
        d.member(h5, s4, start=TODAY, end=TODAY)

        d.prefer(g_end_today, "email", on=["attendance"], guardian=("attendance",))
        d.prefer(g_start_today, "email", on=[], guardian=("attendance",))
        d.finish()
    return session_factory


def table(changes: dict[str, dict[str, str]], **cells: int) -> Table:
    """The expected table; `cells` must name exactly the cells that `changes` sets."""
    set_cells = {
        f"{c}__{r}" for c, opts in changes.items() for r, o in opts.items() if o != "noChange"
    }
    assert set_cells == set(cells), "the expectation must name exactly the set cells"
    return result_table(**cells)


SCHOOL_A = {"schoolYear": "2025-26", "schoolId": "A"}


def test_student_mode_targets_current_enrollments_and_needs_an_address(district):
    changes = {"cellPhone": {"emergency": "on"}, "householdPhone": {"emergency": "on"}}
    view = run_batch(district, {"mode": "student", "scope": SCHOOL_A, "changes": changes})
    # s1, s2 (ends today), s4 (starts tomorrow); not s3 (ended), s5 (school B), s6 (last year)
    assert view["status"] == "succeeded"
    assert view["result"]["targets"] == 3
    # cell: s1 and s2 (s4 has no cell phone). households: h1 once although s1 and s2 are both in
    # it, h5 (s4 a member from today to today); not h2 (s2 left yesterday), h3 (no phone),
    # h4 (s4 joins tomorrow)
    assert view["result"]["counts"] == table(
        changes, cellPhone__emergency=2, householdPhone__emergency=2
    )
    assert view["result"]["errors"] == []


def test_student_mode_by_calendar_and_whole_year(district):
    changes = {"cellPhone": {"general": "on"}}
    by_calendar = run_batch(
        district, {"mode": "student", "scope": {"calendarId": "CAL-B"}, "changes": changes}
    )
    assert (by_calendar["result"]["targets"], by_calendar["result"]["counts"]) == (
        1,
        table(changes, cellPhone__general=1),  # s5
    )
    other_year = {"mode": "student", "scope": {"schoolYear": "2024-25"}, "changes": changes}
    view = run_batch(district, other_year)
    assert (view["result"]["targets"], view["result"]["counts"]) == (
        1,
        table(changes, cellPhone__general=1),  # s6: an enrollment without an end date
    )
    whole = run_batch(
        district, {"mode": "student", "scope": {"schoolYear": "2025-26"}, "changes": changes}
    )
    # s1, s2, s4, s5; s5 already on from the first batch, s4 has no cell: s1 and s2 change
    assert (whole["result"]["targets"], whole["result"]["counts"]) == (
        4,
        table(changes, cellPhone__general=2),
    )


def test_student_contacts_judge_relationships_as_of_the_date(district):
    changes = {"email": {"priority": "on"}, "householdPhone": {"priority": "on"}}
    view = run_batch(district, {"mode": "studentContact", "scope": SCHOOL_A, "changes": changes})
    # p (parent of three, counted once), g-end-today, g-start-today; not g-ended, g-future,
    # g-not-messenger, g-of-s3 (s3 not current), q (school B)
    assert view["result"]["targets"] == 3
    # households: h1 through p, h2 through g-end-today
    assert view["result"]["counts"] == table(changes, email__priority=3, householdPhone__priority=2)
    whole = run_batch(
        district, {"mode": "studentContact", "scope": {"schoolYear": "2025-26"}, "changes": changes}
    )
    assert whole["result"]["targets"] == 4  # and q
    assert whole["result"]["counts"] == table(
        changes, email__priority=1, householdPhone__priority=0
    )


def test_staff_reason_only_through_an_active_district_assignment(district):
    changes = {"email": {"staff": "on", "general": "on"}, "householdPhone": {"staff": "on"}}
    view = run_batch(district, {"mode": "studentContact", "scope": SCHOOL_A, "changes": changes})
    # staff: only p (assigned from today); g-start-today's assignment starts tomorrow.
    # general: all three. Household staff: h1 through p; h2 only through g-end-today: skipped.
    assert view["result"]["counts"] == table(
        changes, email__staff=1, email__general=3, householdPhone__staff=1
    )


def test_census_mode_with_a_staff_filter(district):
    with district.begin() as session:
        staff = save_filter(
            session, {"name": "staff", "kind": "census", "criteria": {"staff": True}}
        ).id
    changes = {"email": {"teacher": "on"}}
    view = run_batch(district, {"mode": "census", "filterId": staff, "changes": changes})
    # p (from today) and e1; not q (ended yesterday), g-start-today (from tomorrow)
    assert view["result"]["targets"] == 2
    assert view["result"]["counts"] == table(changes, email__teacher=2)


def test_keep_guardian_choices_counts_what_it_kept(district):
    changes = {"email": {"attendance": "on"}}
    request = {"mode": "studentContact", "scope": SCHOOL_A, "changes": changes}
    kept = run_batch(district, request | {"keepGuardianChoices": True})
    # p: off -> on, changed. g-end-today: already on (guardian), neither changed nor kept.
    # g-start-today: off by a guardian, kept.
    assert kept["result"]["counts"] == table(changes, email__attendance=1)
    assert kept["result"]["kept"] == table(changes, email__attendance=1)
    overwrite = run_batch(district, request)
    assert overwrite["result"]["counts"] == table(changes, email__attendance=1)
    assert overwrite["result"]["kept"] == table(changes, email__attendance=0)


def test_second_identical_batch_changes_nothing(district):
    changes = {
        "householdPhone": {"emergency": "on", "staff": "on"},
        "cellPhone": {"emergency": "on", "general": "off"},
        "email": {"emergency": "on", "foodService": "noChange"},
    }
    request = {"mode": "studentContact", "scope": {"schoolYear": "2025-26"}, "changes": changes}
    first = run_batch(district, request)
    # targets p, g-end-today, g-start-today, q. cell: only p has one. email: all four.
    # households h1 (p, staff), h2 (g-end-today, not staff).
    assert first["result"]["counts"] == table(
        changes,
        householdPhone__emergency=2,
        householdPhone__staff=1,
        cellPhone__emergency=1,
        cellPhone__general=0,
        email__emergency=4,
    )
    second = run_batch(district, request)
    assert second["result"]["counts"] == table(
        changes,
        householdPhone__emergency=0,
        householdPhone__staff=0,
        cellPhone__emergency=0,
        cellPhone__general=0,
        email__emergency=0,
    )
    with district.begin() as session:
        setters = session.execute(
            select(preferences.c.setter_emergency, func.count())
            .group_by(preferences.c.setter_emergency)
            .order_by(preferences.c.setter_emergency)
        ).all()
    # 2 households + 1 cell + 4 emails carry the first batch as setter; the rest untouched
    # (default 0, and the two rows set by `prefer`, whose emergency setter is an import: -1)
    assert setters[-1] == (first["id"], 7)


def test_dry_run_counts_what_applying_would_and_changes_nothing(district):
    changes = {"email": {"attendance": "on"}}
    request = {"mode": "studentContact", "scope": SCHOOL_A, "changes": changes}
    with district.begin() as session:
        before = session.execute(select(preferences).order_by("subject_id", "channel")).all()
    dry = run_batch(district, request | {"dryRun": True})
    with district.begin() as session:
        after = session.execute(select(preferences).order_by("subject_id", "channel")).all()
    assert after == before
    real = run_batch(district, request)
    assert (
        dry["result"]["counts"] == real["result"]["counts"] == table(changes, email__attendance=2)
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sms": {"emergency": "on"}}, "changes.sms"),
        ({"textMessage": {"emergency": "on"}}, "changes.textMessage"),
        ({"cellPhone": {"SMS": "on"}}, "changes.cellPhone.SMS"),
        ({"cellPhone": {"text": "off"}}, "changes.cellPhone.text"),
        ({"Cell_SMS": {"general": "on"}}, "changes.Cell_SMS"),
    ],
)
def test_text_message_preferences_are_refused(district, changes, field):
    request = {"mode": "student", "scope": SCHOOL_A, "changes": changes}
    with pytest.raises(InvalidRequest) as refused:
        with district.begin() as session:
            submit(session, request)
    assert (refused.value.field, refused.value.message) == (
        field,
        "text-message (SMS) preferences can never be set by a batch",
    )
    with district.begin() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 0


def test_an_enrollment_without_end_date_stays_current(district):
    changes = {"cellPhone": {"general": "on"}}
    request = {"mode": "student", "scope": {"calendarId": "OLD-A"}, "changes": changes}
    view = run_batch(district, request | {"asOf": "2030-01-01"})
    assert (view["status"], view["result"]["targets"]) == ("succeeded", 1)  # s6
    assert view["result"]["counts"] == table(changes, cellPhone__general=1)


def test_no_targets_finishes_with_zeros(district):
    with district.begin() as session:
        seniors = save_filter(
            session, {"name": "12", "kind": "student", "criteria": {"grades": ["12"]}}
        ).id
    changes = {"email": {"general": "on"}, "householdPhone": {"general": "off"}}
    request = {"mode": "studentContact", "scope": SCHOOL_A, "filterId": seniors}
    view = run_batch(district, request | {"changes": changes})
    assert (view["status"], view["result"]["targets"], view["progress"]) == (
        "succeeded",
        0,
        {"done": 0, "total": 0, "people": {"done": 0, "total": 0}},
    )
    assert view["result"]["counts"] == table(changes, email__general=0, householdPhone__general=0)


def test_student_filter_grades_and_schools_hold_on_one_enrollment(district):
    with district.begin() as session:
        both = save_filter(
            session,
            {"name": "x", "kind": "student", "criteria": {"grades": ["02"], "schoolIds": ["A"]}},
        ).id
    changes = {"cellPhone": {"behavior": "on"}}
    request = {"mode": "student", "scope": {"schoolYear": "2025-26"}, "filterId": both}
    view = run_batch(district, request | {"changes": changes})
    assert view["result"]["targets"] == 1  # s2: grade 02 at school A
    assert view["result"]["counts"] == table(changes, cellPhone__behavior=1)
