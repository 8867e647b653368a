"""The baseline: what a district DBA would run by hand instead of the product, one SQL statement.

It applies a district-wide Student Messenger Contacts batch (docs/batches.md) to the product's own
schema in one PostgreSQL statement: the targets by join (messenger contacts, by an active
relationship, of the students with a current enrollment in the school year), the households
with a phone in which a target is an active member, the old values captured `FOR UPDATE`, the
update of only the values that differ (the batch as their setter, the `staff` reason only
through a target with an active district assignment), and the per-reason changed counts. It
keeps no change log, so it cannot be undone: that is the work the product does on top.
"""

from datetime import date
from typing import Any

from shared.core.vocabulary import ADDRESS_COLUMN, CHANNELS, HOUSEHOLD_PHONE, REASONS, STAFF_BIT
from shared.models.preferences import SETTER_COLUMNS

Counts = dict[str, dict[str, int | None]]  # channel -> reason -> changed (None: noChange)

# Batch ids are positive; the statement's changes name this one as their setter.
BASELINE_SETTER = 2_000_000_000


def _masks(changes: dict[str, dict[str, str]]) -> dict[int, tuple[int, int]]:
    """Channel -> (reasons set, reasons turned on), for the channels the batch sets."""
    masks = {}
    for channel, options in changes.items():
        set_mask = sum(1 << REASONS.index(r) for r, o in options.items() if o != "noChange")
        on_mask = sum(1 << REASONS.index(r) for r, o in options.items() if o == "on")
        if set_mask:
            masks[CHANNELS.index(channel)] = (set_mask, on_mask)
    return masks


def _case(masks: dict[int, tuple[int, int]], which: int) -> str:
    whens = " ".join(f"WHEN {channel} THEN {m[which]}" for channel, m in masks.items())
    return f"CASE r.channel {whens} END"


def statement(changes: dict[str, dict[str, str]]) -> str:
    """The SQL, with the parameters `school_year`, `as_of` and `setter`."""
    masks = _masks(changes)
    personal = [channel for channel in masks if channel != HOUSEHOLD_PHONE]
    has_address = " OR ".join(
        f"(p.channel = {channel} AND a.{ADDRESS_COLUMN[CHANNELS[channel]]} <> '')"
        for channel in personal
    )
    rows = [
        "SELECT p.subject_id, p.channel, t.is_staff FROM targets t "
        "JOIN people a ON a.id = t.person_id "
        "JOIN preferences p ON p.subject_id = t.person_id "
        f"AND p.channel IN ({', '.join(map(str, personal))}) WHERE {has_address}"
    ]
    if HOUSEHOLD_PHONE in masks:
        rows.append(
            "SELECT p.subject_id, p.channel, h.is_staff FROM homes h "
            "JOIN preferences p ON p.subject_id = h.household_id AND p.channel = 0"
        )
    effective = (
        f"CASE WHEN r.is_staff THEN {_case(masks, 0)} ELSE {_case(masks, 0)} & {~STAFF_BIT} END"
    )
    diff = f"(p.mask # {_case(masks, 1)}) & {effective}"
    setters = ", ".join(
        f"{column} = CASE WHEN o.diff & {1 << k} <> 0 THEN %(setter)s ELSE p.{column} END"
        for k, column in enumerate(SETTER_COLUMNS)
    )
    counts = ", ".join(f"count(*) FILTER (WHERE u.diff & {1 << k} <> 0)" for k in range(8))
    active = (
        "({t}.start_date IS NULL OR {t}.start_date <= %(as_of)s) "
        "AND ({t}.end_date IS NULL OR {t}.end_date >= %(as_of)s)"
    )
    return f"""
WITH students AS (
    SELECT DISTINCT e.person_id FROM enrollments e JOIN calendars c ON c.id = e.calendar_id
    WHERE c.school_year = %(school_year)s AND (e.end_date IS NULL OR e.end_date >= %(as_of)s)
), targets AS (
    SELECT x.person_id, EXISTS (
        SELECT 1 FROM district_assignments d WHERE d.person_id = x.person_id
        AND {active.format(t="d")}) AS is_staff
    FROM (SELECT DISTINCT r.contact_id AS person_id FROM relationships r
          JOIN students s ON s.person_id = r.student_id
          WHERE r.messenger AND {active.format(t="r")}) x
), homes AS (
    SELECT m.household_id, bool_or(t.is_staff) AS is_staff
    FROM targets t JOIN household_members m ON m.person_id = t.person_id
    JOIN households hh ON hh.id = m.household_id
    WHERE hh.phone <> '' AND {active.format(t="m")}
    GROUP BY m.household_id
), old AS (
    SELECT p.subject_id, p.channel, {diff} AS diff, {_case(masks, 1)} AS on_mask
    FROM ({" UNION ALL ".join(rows)}) r
    JOIN preferences p ON p.subject_id = r.subject_id AND p.channel = r.channel
    WHERE {diff} <> 0
    FOR UPDATE OF p
), updated AS (
    UPDATE preferences p SET mask = (p.mask & ~o.diff) | (o.on_mask & o.diff), {setters}
    FROM old o WHERE p.subject_id = o.subject_id AND p.channel = o.channel
    RETURNING p.channel, o.diff
)
SELECT u.channel, {counts} FROM updated u GROUP BY u.channel
"""


def apply(
    connection: Any, changes: dict[str, dict[str, str]], school_year: str, as_of: date
) -> Counts:
    """Run the statement on a psycopg connection, in one transaction; the counts as the API
    gives a batch's result."""
    params = {"school_year": school_year, "as_of": as_of, "setter": BASELINE_SETTER}
    with connection.transaction():
        found = {row[0]: row[1:] for row in connection.execute(statement(changes), params)}
    counts: Counts = {}
    for channel in CHANNELS:
        options = changes.get(channel, {})
        changed = found.get(CHANNELS.index(channel), (0,) * len(REASONS))
        counts[channel] = {
            reason: None if options.get(reason, "noChange") == "noChange" else int(changed[k])
            for k, reason in enumerate(REASONS)
        }
    return counts
