"""Which due times run and which are skipped, with the clock passed in: the catch-up window's
edges, several due times missed at once, the limit of a tick, pause and resume, and DST."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.schedules.catch_up import Decision, decide, format_window
from shared.schedules.rules import Cron, Once, Rule, Yearly

CHICAGO = ZoneInfo("America/Chicago")
# 02:00 in Chicago: 07:00 UTC in summer (CDT).
DAILY = Cron("0 2 * * *")
SIX_HOURS = timedelta(hours=6)
AUGUST = datetime(2026, 8, 1, tzinfo=UTC)
LATER = "missed: a later run of the same schedule ({}) was due by the time this one could run"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, *rest: int) -> datetime:
    return datetime(year, month, day, hour, minute, *rest, tzinfo=UTC)


def decided(
    now: datetime,
    *,
    since: datetime = AUGUST,
    rule: Rule = DAILY,
    window: timedelta = SIX_HOURS,
    limit: int = 1000,
) -> list[Decision]:
    return decide(rule, CHICAGO, since=since, now=now, window=window, limit=limit)


def test_a_due_time_runs_up_to_the_edge_of_the_window():
    assert decided(utc(2026, 8, 1, 7)) == [Decision(utc(2026, 8, 1, 7), True, None)]
    assert decided(utc(2026, 8, 1, 13)) == [Decision(utc(2026, 8, 1, 7), True, None)]


def test_a_microsecond_past_the_window_is_skipped():
    assert decided(utc(2026, 8, 1, 13, 0, 0, 1)) == [
        Decision(
            utc(2026, 8, 1, 7),
            False,
            "missed by 6 h 1 s, more than the catch-up window of 6 h",
        )
    ]


def test_of_two_missed_due_times_within_the_window_the_latest_runs():
    assert decided(utc(2026, 8, 2, 8)) == [
        Decision(utc(2026, 8, 1, 7), False, LATER.format("2026-08-02 02:00 CDT")),
        Decision(utc(2026, 8, 2, 7), True, None),
    ]


def test_due_times_all_past_the_window_are_all_skipped():
    assert decided(utc(2026, 8, 3, 14, 30)) == [
        Decision(utc(2026, 8, 1, 7), False, LATER.format("2026-08-02 02:00 CDT")),
        Decision(utc(2026, 8, 2, 7), False, LATER.format("2026-08-03 02:00 CDT")),
        Decision(
            utc(2026, 8, 3, 7),
            False,
            "missed by 7 h 30 min, more than the catch-up window of 6 h",
        ),
    ]


def test_a_fractional_window():
    half_hour = timedelta(hours=0.5)
    assert decided(utc(2026, 8, 1, 7, 30), window=half_hour)[0].runs
    assert decided(utc(2026, 8, 1, 7, 30, 1), window=half_hour) == [
        Decision(
            utc(2026, 8, 1, 7),
            False,
            "missed by 30 min 1 s, more than the catch-up window of 30 min",
        )
    ]


def test_nothing_due_is_nothing_to_decide():
    assert decided(utc(2026, 8, 1, 6, 59)) == []
    assert decided(utc(2026, 8, 1, 7), since=utc(2026, 8, 1, 7)) == []
    assert decided(utc(2026, 8, 1, 7), rule=Once(datetime(2026, 7, 1, 2))) == []


def test_a_long_outage_gives_the_first_due_times_of_the_limit_all_skipped():
    every_minute = Cron("* * * * *")
    since = utc(2026, 8, 1, 7)
    first = decided(utc(2026, 8, 1, 7, 5), since=since, rule=every_minute, limit=3)
    assert first == [
        Decision(utc(2026, 8, 1, 7, 1), False, LATER.format("2026-08-01 02:02 CDT")),
        Decision(utc(2026, 8, 1, 7, 2), False, LATER.format("2026-08-01 02:03 CDT")),
        Decision(utc(2026, 8, 1, 7, 3), False, LATER.format("2026-08-01 02:04 CDT")),
    ]
    rest = decided(utc(2026, 8, 1, 7, 5), since=first[-1].due_at, rule=every_minute, limit=3)
    assert [(decision.due_at.minute, decision.runs) for decision in rest] == [(4, False), (5, True)]


def test_exactly_the_limit_of_due_times_is_decided_in_full():
    decisions = decided(
        utc(2026, 8, 1, 7, 3), since=utc(2026, 8, 1, 7), rule=Cron("* * * * *"), limit=3
    )
    assert [decision.runs for decision in decisions] == [False, False, True]


def test_a_resumed_schedule_runs_only_due_times_after_it_resumed():
    # Paused over 2 to 4 August, resumed at 09:00 UTC on the 4th: the caller passes that as since.
    resumed = utc(2026, 8, 4, 9)
    assert decided(utc(2026, 8, 4, 12), since=resumed) == []
    assert decided(utc(2026, 8, 5, 7, 1), since=resumed) == [
        Decision(utc(2026, 8, 5, 7), True, None)
    ]


def test_a_spring_forward_gap_runs_once_and_a_repeated_hour_once():
    every_quarter = Cron("*/15 * * * *")
    assert decided(utc(2026, 3, 8, 8, 5), since=utc(2026, 3, 8, 7, 50), rule=every_quarter) == [
        Decision(utc(2026, 3, 8, 8), True, None)
    ]
    hourly = Cron("0 * * * *")
    assert decided(utc(2026, 11, 1, 8, 10), since=utc(2026, 11, 1, 5, 30), rule=hourly) == [
        Decision(utc(2026, 11, 1, 6), False, LATER.format("2026-11-01 02:00 CST")),
        Decision(utc(2026, 11, 1, 8), True, None),
    ]


def test_a_yearly_rule_missed_by_days():
    rule = Yearly(8, 1, time(2))
    assert decided(utc(2026, 8, 3, 7), rule=rule, window=timedelta(hours=24)) == [
        Decision(utc(2026, 8, 1, 7), False, "missed by 48 h, more than the catch-up window of 24 h")
    ]


@pytest.mark.parametrize(
    ("hours", "words"),
    [
        (6, "6 h"),
        (1.5, "1 h 30 min"),
        (0.75, "45 min"),
        (0.01, "36 s"),
        (2.0125, "2 h 45 s"),
        (72, "72 h"),
        (0, "0 s"),
    ],
)
def test_format_window(hours: float, words: str):
    assert format_window(hours) == words
