"""When scheduled rules are due, without a clock of their own: every instant asserted in UTC,
across both DST transitions of 2026 in America/Chicago, Europe/London and Australia/Lord_Howe
(a 30-minute shift).

2026's transitions: Chicago springs forward on 8 March at 02:00 (08:00 UTC) and falls back on
1 November at 02:00 CDT (07:00 UTC); London on 29 March at 01:00 (01:00 UTC) and on 25 October
at 02:00 BST (01:00 UTC); Lord Howe falls back on 5 April at 02:00 +11 (15:00 UTC, 4 April) to
01:30, and springs forward on 4 October at 02:00 +10:30 (15:30 UTC, 3 October) to 02:30.
"""

from collections.abc import Iterator
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from shared.schedules.rules import Cron, Once, Rule, Yearly, due_times, next_due_times
from shared.schedules.wall_time import to_utc

CHICAGO = ZoneInfo("America/Chicago")
LONDON = ZoneInfo("Europe/London")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
ZULU = ZoneInfo("UTC")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *rest: int) -> datetime:
    return datetime(year, month, day, hour, minute, *rest, tzinfo=UTC)


def hhmm(instants: list[datetime]) -> list[str]:
    return [f"{instant:%H:%M}" for instant in instants]


def in_2026(rule: Rule, zone: ZoneInfo) -> list[datetime]:
    return list(due_times(rule, zone, after=utc(2025, 12, 31, 12), until=utc(2026, 12, 31, 12)))


@pytest.mark.parametrize(
    ("zone", "local", "instant"),
    [
        (CHICAGO, datetime(2026, 3, 8, 1, 59), utc(2026, 3, 8, 7, 59)),
        (CHICAGO, datetime(2026, 3, 8, 2, 0), utc(2026, 3, 8, 8)),
        (CHICAGO, datetime(2026, 3, 8, 2, 30), utc(2026, 3, 8, 8)),
        (CHICAGO, datetime(2026, 3, 8, 3, 0), utc(2026, 3, 8, 8)),
        (CHICAGO, datetime(2026, 11, 1, 1, 30), utc(2026, 11, 1, 6, 30)),
        (CHICAGO, datetime(2026, 11, 1, 2, 0), utc(2026, 11, 1, 8)),
        (LONDON, datetime(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1)),
        (LONDON, datetime(2026, 10, 25, 1, 30), utc(2026, 10, 25, 0, 30)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 15), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, datetime(2026, 10, 4, 2, 30), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, datetime(2026, 4, 5, 1, 45), utc(2026, 4, 4, 14, 45)),
        (LORD_HOWE, datetime(2026, 4, 5, 2, 0), utc(2026, 4, 4, 15, 30)),
    ],
)
def test_a_skipped_time_is_the_jump_and_a_repeated_one_its_first_occurrence(
    zone: ZoneInfo, local: datetime, instant: datetime
):
    assert to_utc(local, zone) == instant
    assert to_utc(local, zone).tzinfo is UTC


def test_zoneinfo_alone_would_move_a_skipped_time_on_by_the_jump():
    naive_policy = datetime(2026, 3, 8, 2, 30, tzinfo=CHICAGO).astimezone(UTC)
    assert naive_policy == utc(2026, 3, 8, 8, 30) != to_utc(datetime(2026, 3, 8, 2, 30), CHICAGO)


@pytest.mark.parametrize(
    ("zone", "rule", "instant"),
    [
        (CHICAGO, Yearly(3, 8, time(2, 30)), utc(2026, 3, 8, 8)),
        (CHICAGO, Yearly(11, 1, time(1, 30)), utc(2026, 11, 1, 6, 30)),
        (LONDON, Yearly(3, 29, time(1, 30)), utc(2026, 3, 29, 1)),
        (LONDON, Yearly(10, 25, time(1, 30)), utc(2026, 10, 25, 0, 30)),
        (LORD_HOWE, Yearly(10, 4, time(2, 15)), utc(2026, 10, 3, 15, 30)),
        (LORD_HOWE, Yearly(4, 5, time(1, 45)), utc(2026, 4, 4, 14, 45)),
        (CHICAGO, Once(datetime(2026, 3, 8, 2, 30)), utc(2026, 3, 8, 8)),
        (LORD_HOWE, Once(datetime(2026, 4, 5, 1, 45)), utc(2026, 4, 4, 14, 45)),
    ],
)
def test_a_yearly_or_once_rule_on_a_transition_day_is_due_once_that_year(
    zone: ZoneInfo, rule: Rule, instant: datetime
):
    assert in_2026(rule, zone) == [instant]


@pytest.mark.parametrize(
    ("zone", "expression", "expected"),
    [
        # Chicago at 02:30: the day before, the jump instant, the day after; the same at 01:30
        # around fall-back, whose 01:30 comes twice and runs once.
        (
            CHICAGO,
            "30 2 * * *",
            [utc(2026, 3, 7, 8, 30), utc(2026, 3, 8, 8), utc(2026, 3, 9, 7, 30)],
        ),
        (
            CHICAGO,
            "30 1 * * *",
            [utc(2026, 10, 31, 6, 30), utc(2026, 11, 1, 6, 30), utc(2026, 11, 2, 7, 30)],
        ),
        (
            LONDON,
            "30 1 * * *",
            [utc(2026, 3, 28, 1, 30), utc(2026, 3, 29, 1), utc(2026, 3, 30, 0, 30)],
        ),
        (
            LONDON,
            "30 1 * * *",
            [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30), utc(2026, 10, 26, 1, 30)],
        ),
        (
            LORD_HOWE,
            "15 2 * * *",
            [utc(2026, 10, 2, 15, 45), utc(2026, 10, 3, 15, 30), utc(2026, 10, 4, 15, 15)],
        ),
        (
            LORD_HOWE,
            "45 1 * * *",
            [utc(2026, 4, 3, 14, 45), utc(2026, 4, 4, 14, 45), utc(2026, 4, 5, 15, 15)],
        ),
    ],
)
def test_a_daily_cron_runs_every_day_of_the_year_once(
    zone: ZoneInfo, expression: str, expected: list[datetime]
):
    year = in_2026(Cron(expression), zone)
    assert len(year) == len(set(year)) == 365
    assert year == sorted(year)
    around = year.index(expected[1]) - 1
    assert year[around : around + 3] == expected


@pytest.mark.parametrize(
    ("zone", "expression", "after", "until", "expected"),
    [
        (
            CHICAGO,
            "*/15 * * * *",
            utc(2026, 3, 8, 7),
            utc(2026, 3, 8, 9),
            ["07:15", "07:30", "07:45", "08:00", "08:15", "08:30", "08:45", "09:00"],
        ),
        (
            CHICAGO,
            "*/15 * * * *",
            utc(2026, 11, 1, 5),
            utc(2026, 11, 1, 8, 30),
            [
                "05:15",
                "05:30",
                "05:45",
                "06:00",
                "06:15",
                "06:30",
                "06:45",
                "08:00",
                "08:15",
                "08:30",
            ],
        ),
        (
            LONDON,
            "*/30 * * * *",
            utc(2026, 3, 29),
            utc(2026, 3, 29, 2),
            ["00:30", "01:00", "01:30", "02:00"],
        ),
        (
            LONDON,
            "*/30 * * * *",
            utc(2026, 10, 24, 23, 30),
            utc(2026, 10, 25, 2),
            ["00:00", "00:30", "02:00"],
        ),
        (
            LORD_HOWE,
            "*/15 * * * *",
            utc(2026, 10, 3, 15),
            utc(2026, 10, 3, 16),
            ["15:15", "15:30", "15:45", "16:00"],
        ),
        (
            LORD_HOWE,
            "*/15 * * * *",
            utc(2026, 4, 4, 14),
            utc(2026, 4, 4, 16),
            ["14:15", "14:30", "14:45", "15:30", "15:45", "16:00"],
        ),
    ],
)
def test_a_frequent_cron_across_a_transition_has_each_instant_once(
    zone: ZoneInfo, expression: str, after: datetime, until: datetime, expected: list[str]
):
    assert hhmm(list(due_times(Cron(expression), zone, after=after, until=until))) == expected


def test_from_inside_the_repeated_hour_the_next_run_is_after_it():
    # 07:10 UTC is 01:10 CST, the second 01:10: the repeated hour's times ran the first time.
    every_quarter = Cron("*/15 * * * *")
    assert next_due_times(every_quarter, CHICAGO, utc(2026, 11, 1, 7, 10), 2) == [
        utc(2026, 11, 1, 8),
        utc(2026, 11, 1, 8, 15),
    ]


def test_next_due_times_of_a_yearly_rule():
    rule = Yearly(8, 1, time(2))
    assert next_due_times(rule, CHICAGO, utc(2026, 8, 1, 7)) == [
        utc(2027, 8, 1, 7),
        utc(2028, 8, 1, 7),
        utc(2029, 8, 1, 7),
    ]
    assert next_due_times(rule, CHICAGO, utc(2026, 8, 1, 6, 59), 1) == [utc(2026, 8, 1, 7)]
    assert next_due_times(rule, LORD_HOWE, utc(2026, 1, 1), 1) == [utc(2026, 7, 31, 15, 30)]


def test_29_february_is_due_in_leap_years_only_and_within_ten_years():
    rule = Yearly(2, 29, time(2))
    assert next_due_times(rule, CHICAGO, utc(2026, 3, 1)) == [
        utc(2028, 2, 29, 8),
        utc(2032, 2, 29, 8),
        utc(2036, 2, 29, 8),
    ]
    assert next_due_times(rule, CHICAGO, utc(2026, 1, 1), 5) == [
        utc(2028, 2, 29, 8),
        utc(2032, 2, 29, 8),
    ]


def test_a_once_rule_is_due_once_or_never():
    rule = Once(datetime(2027, 8, 1, 2))
    assert next_due_times(rule, CHICAGO, utc(2026, 1, 1)) == [utc(2027, 8, 1, 7)]
    assert next_due_times(rule, CHICAGO, utc(2027, 8, 1, 7)) == []
    assert next_due_times(rule, LONDON, utc(2026, 1, 1)) == [utc(2027, 8, 1, 1)]


def test_due_times_take_until_and_leave_after_out():
    rule = Cron("0 * * * *")
    hours = due_times(rule, ZULU, after=utc(2026, 5, 1, 1), until=utc(2026, 5, 1, 3))
    assert list(hours) == [utc(2026, 5, 1, 2), utc(2026, 5, 1, 3)]
    seconds_past = due_times(
        rule, ZULU, after=utc(2026, 5, 1, 1, 0, 0, 1), until=utc(2026, 5, 1, 2)
    )
    assert list(seconds_past) == [utc(2026, 5, 1, 2)]


def test_due_times_are_lazy():
    every_minute = due_times(
        Cron("* * * * *"), CHICAGO, after=utc(2026, 1, 1), until=utc(2126, 1, 1)
    )
    assert isinstance(every_minute, Iterator)
    assert [next(every_minute), next(every_minute)] == [
        utc(2026, 1, 1, 0, 1),
        utc(2026, 1, 1, 0, 2),
    ]


def january(expression: str) -> list[int]:
    rule = Cron(expression)
    return [day.day for day in due_times(rule, ZULU, after=utc(2026, 1, 1), until=utc(2026, 2, 1))]


def test_both_day_fields_restricted_is_either_as_in_crontab_5():
    # January 2026: the 13th is a Tuesday; the Fridays are the 2nd, 9th, 16th, 23rd and 30th.
    assert january("0 0 13 * 5") == [2, 9, 13, 16, 23, 30]
    assert january("0 0 13 * *") == [13]
    assert january("0 0 * * 5") == [2, 9, 16, 23, 30]
    assert january("0 0 */10 * 5") == []
