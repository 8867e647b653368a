"""What a tick does with a schedule's due times, pure: which one runs and which are skipped.

A schedule never runs twice to catch up. Of the due times since it was last decided, only the
latest may run, and only within the catch-up window (late by at most that much: after an outage,
a run hours late may no longer be wanted). Every other due time is skipped, with its reason, so
that each due time has a record.

Pause and resume need nothing here: a paused schedule is not decided, and on resuming the caller
passes the resume instant as `since`, so that its first run is its first due time after it.
"""

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import islice, pairwise
from zoneinfo import ZoneInfo

from shared.schedules.rules import Rule, due_times


@dataclass(frozen=True)
class Decision:
    """A due time (aware, UTC) and what to do with it: create its batch now (`runs`), or record
    it as skipped, for `reason`."""

    due_at: datetime
    runs: bool
    reason: str | None


def decide(
    rule: Rule,
    zone: ZoneInfo,
    *,
    since: datetime,
    now: datetime,
    window: timedelta,
    limit: int = 1000,
) -> list[Decision]:
    """A decision for each due time d with `since` < d <= `now`, in order: the latest runs if
    `now` - d <= `window`, and is skipped otherwise; every earlier one is skipped, a later one
    being due too. `since` is the instant after which due times still need a record: the last
    one recorded, or the moment the schedule was created, resumed or given its rule, whichever
    is latest.

    With more than `limit` due times, only the first `limit` come, all skipped (each has a
    later one): a tick after a long outage stays short, and the next tick goes on from the last
    of them."""
    due = list(islice(due_times(rule, zone, after=since, until=now), limit + 1))
    decisions = [
        Decision(due_at, False, _superseded(later, zone)) for due_at, later in pairwise(due)
    ]
    if not due or len(due) > limit:
        return decisions
    return [*decisions, _latest(due[-1], now, window)]


def _latest(due_at: datetime, now: datetime, window: timedelta) -> Decision:
    late = now - due_at
    if late <= window:
        return Decision(due_at, True, None)
    # Rounded up: a run a microsecond past the window is late by more than the window.
    missed_by = _duration(math.ceil(late / timedelta(seconds=1)))
    allowed = format_window(window / timedelta(hours=1))
    return Decision(
        due_at, False, f"missed by {missed_by}, more than the catch-up window of {allowed}"
    )


def _superseded(later: datetime, zone: ZoneInfo) -> str:
    return (
        f"missed: a later run of the same schedule ({later.astimezone(zone):%Y-%m-%d %H:%M %Z}) "
        "was due by the time this one could run"
    )


def format_window(hours: float) -> str:
    """A catch-up window of `hours` in words, to the second: "6 h", "1 h 30 min", "45 min",
    "36 s"."""
    return _duration(round(hours * 3600))


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [(hours, "h"), (minutes, "min"), (seconds, "s")]
    return " ".join(f"{amount} {unit}" for amount, unit in parts if amount) or "0 s"
