"""The DST policy of scheduled batches: which instant a district's wall time is.

A wall time is the first instant at which the district's clocks show it or a later time. So a
time repeated by fall-back is its first occurrence, and a time skipped by spring-forward is the
instant the clocks jump over it. Going forward in wall time never goes back in instants.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    """The instant (aware, UTC) of the naive wall time `local` in `zone`, by the policy above.
    zoneinfo alone (fold=0) would move a time in a spring-forward gap on by the jump instead:
    Chicago's 02:30 on a spring-forward day would be 03:30, not 03:00."""
    first = local.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if wall(first, zone) == local:
        return first
    other = local.replace(tzinfo=zone, fold=1).astimezone(UTC)
    return _jump(local, zone, min(first, other), max(first, other))


def wall(instant: datetime, zone: ZoneInfo) -> datetime:
    """What the clocks in `zone` show at `instant` (naive)."""
    return instant.astimezone(zone).replace(tzinfo=None)


def _jump(local: datetime, zone: ZoneInfo, before: datetime, after: datetime) -> datetime:
    """The first instant in (before, after] at which the clocks show more than `local`, a time
    in a gap: they show less at `before` and more at `after`. Transitions fall on whole seconds,
    so a binary search over whole seconds finds the jump exactly."""
    low, high = 0, int((after - before).total_seconds())
    while high - low > 1:
        middle = (low + high) // 2
        if wall(before + timedelta(seconds=middle), zone) > local:
            high = middle
        else:
            low = middle
    return before + timedelta(seconds=high)
