"""Applying one chunk of a batch (docs/batches.md, "What a batch updates"), in the caller's
transaction, with set-based SQL.

One INSERT ... SELECT for the household phone, and one for all the personal channels the batch
sets, write to the change log every preference row of the chunk's subjects whose value differs
from what the batch asks for: the row as it was, the mask after, which reasons change and which
are kept for a guardian. One UPDATE then applies the logged changes, and the chunk's counts are
summed from the log. Rows already equal to the option are never written. The SQL is the same
text on PostgreSQL and SQLite: bitwise `&`, `|` and CASE only (SQLite has no XOR;
`(a | b) - (a & b)` is one).
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.batches.result import Matrix, zero_matrix
from shared.core.db import is_sqlite
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASON_BIT,
    REASONS,
    SETTER_GUARDIAN,
    STAFF_BIT,
)
from shared.models.preferences import SETTER_COLUMNS


@dataclass(frozen=True)
class ChannelOptions:
    """The options of one channel as masks: which reasons to set, and to which value."""

    channel: int
    set_mask: int
    on_mask: int

    @classmethod
    def from_options(cls, channel: int, options: dict[str, str]) -> "ChannelOptions":
        set_mask = on_mask = 0
        for reason, option in options.items():
            if option != "noChange":
                set_mask |= REASON_BIT[reason]
            if option == "on":
                on_mask |= REASON_BIT[reason]
        return cls(channel, set_mask, on_mask)


def channel_options(changes: dict[str, dict[str, str]]) -> list[ChannelOptions]:
    """The channels a batch sets, with their masks."""
    found = [
        ChannelOptions.from_options(index, changes.get(channel, {}))
        for index, channel in enumerate(CHANNELS)
    ]
    return [options for options in found if options.set_mask]


def _guardian_bits(alias: str) -> str:
    return " + ".join(
        f"CASE WHEN {alias}.{column} = {SETTER_GUARDIAN} THEN {1 << k} ELSE 0 END"
        for k, column in enumerate(SETTER_COLUMNS)
    )


def xor_sql(a: str, b: str) -> str:
    return f"(({a}) | ({b})) - (({a}) & ({b}))"


def _by_channel(options: list[ChannelOptions], value: Callable[[ChannelOptions], str]) -> str:
    """SQL of `value` for the channel of the row `p`."""
    if len(options) == 1:
        return value(options[0])
    whens = " ".join(f"WHEN {o.channel} THEN {value(o)}" for o in options)
    return f"CASE p.channel {whens} END"


def _candidates(options: list[ChannelOptions]) -> str:
    """FROM/WHERE clause of the rows of the chunk on `options`' channels: the household phone
    alone, or personal channels, whose target has an address on the row's channel."""
    if options[0].channel == HOUSEHOLD_PHONE:
        return (
            "FROM batch_households s "
            "JOIN preferences p ON p.subject_id = s.household_id AND p.channel = 0 "
            "JOIN households a ON a.id = s.household_id "
            "WHERE a.phone <> '' "
            "AND s.batch_id = :batch_id AND s.chunk_no = :chunk_no"
        )
    channels = ", ".join(str(o.channel) for o in options)
    address = _by_channel(options, lambda o: f"a.{ADDRESS_COLUMN[CHANNELS[o.channel]]}")
    return (
        "FROM batch_targets s "
        f"JOIN preferences p ON p.subject_id = s.person_id AND p.channel IN ({channels}) "
        "JOIN people a ON a.id = s.person_id "
        f"WHERE {address} <> '' "
        "AND s.batch_id = :batch_id AND s.chunk_no = :chunk_no"
    )


def log_channels(
    session: Session,
    batch_id: int,
    chunk_no: int,
    options: list[ChannelOptions],
    keep_guardian: bool,
) -> None:
    """Log the chunk's changes on `options`' channels (the household phone alone, or any
    personal channels) in one statement. `staff` is set only through a target with an active
    district assignment."""
    set_mask = _by_channel(options, lambda o: str(o.set_mask))
    on_mask = _by_channel(options, lambda o: str(o.on_mask))
    effective = f"CASE WHEN s.is_staff THEN {set_mask} ELSE ({set_mask}) & {~STAFF_BIT} END"
    kept = "(c.diff & c.guardian)" if keep_guardian else "0"
    changed = f"(c.diff - {kept})"
    lock = "" if is_sqlite(session) else " FOR UPDATE OF p"
    session.execute(
        text(
            "INSERT INTO change_log (batch_id, channel, subject_id, chunk_no, before_mask, "
            f"after_mask, changed_mask, kept_mask, {', '.join(SETTER_COLUMNS)}) "
            f"SELECT :batch_id, c.channel, c.subject_id, :chunk_no, c.mask, "
            f"c.mask - (c.mask & {changed}) + (c.on_mask & {changed}), {changed}, {kept}, "
            f"{', '.join('c.' + column for column in SETTER_COLUMNS)} "
            f"FROM (SELECT p.subject_id, p.channel, p.mask, {on_mask} AS on_mask, "
            f"{', '.join('p.' + c for c in SETTER_COLUMNS)}, "
            f"{xor_sql('p.mask', on_mask)} & ({effective}) AS diff, "
            f"{_guardian_bits('p')} AS guardian {_candidates(options)}{lock}) c "
            "WHERE c.diff <> 0"
        ),
        {"batch_id": batch_id, "chunk_no": chunk_no},
    )


def apply_logged(session: Session, batch_id: int, chunk_no: int) -> None:
    """Write the chunk's logged changes into the preferences, the batch as their setter."""
    write_logged(session, batch_id, chunk_no, setter=lambda column: ":batch_id")


def write_logged(
    session: Session,
    batch_id: int,
    chunk_no: int,
    *,
    setter: Callable[[str], str],
    join: str = "",
    params: dict[str, int] | None = None,
) -> None:
    """Write the values logged for the chunk (`l`, its change log rows) into the preferences,
    relative to the current mask: the changed reasons take the logged value, and their setter
    column the SQL `setter(column)` (which may name a table added by `join`)."""
    setters = ", ".join(
        f"{column} = CASE WHEN l.changed_mask & {1 << k} <> 0 THEN {setter(column)} "
        f"ELSE preferences.{column} END"
        for k, column in enumerate(SETTER_COLUMNS)
    )
    session.execute(
        text(
            "UPDATE preferences SET "
            "mask = preferences.mask - (preferences.mask & l.changed_mask) "
            "+ (l.after_mask & l.changed_mask), "
            f"{setters} FROM change_log l {join}"
            "WHERE l.batch_id = :batch_id AND l.chunk_no = :chunk_no AND l.changed_mask <> 0 "
            "AND preferences.subject_id = l.subject_id AND preferences.channel = l.channel"
        ),
        {"batch_id": batch_id, "chunk_no": chunk_no, **(params or {})},
    )


def logged_counts(session: Session, batch_id: int, chunk_no: int) -> tuple[Matrix, Matrix]:
    """Per channel and reason: how many values changed, and how many were kept for a guardian."""
    sums = ", ".join(
        f"SUM(CASE WHEN {column} & {1 << k} <> 0 THEN 1 ELSE 0 END)"
        for column in ("changed_mask", "kept_mask")
        for k in range(len(REASONS))
    )
    rows = session.execute(
        text(
            f"SELECT channel, {sums} FROM change_log "
            "WHERE batch_id = :batch_id AND chunk_no = :chunk_no GROUP BY channel"
        ),
        {"batch_id": batch_id, "chunk_no": chunk_no},
    )
    changed = zero_matrix()
    kept = zero_matrix()
    width = len(REASONS)
    for row in rows:
        channel, values = row[0], [int(value or 0) for value in row[1:]]
        changed[channel] = values[:width]
        kept[channel] = values[width:]
    return changed, kept


def apply_chunk(
    session: Session,
    batch_id: int,
    chunk_no: int,
    changes: dict[str, dict[str, str]],
    *,
    keep_guardian: bool,
    dry_run: bool,
) -> tuple[Matrix, Matrix]:
    found = channel_options(changes)
    household = [options for options in found if options.channel == HOUSEHOLD_PHONE]
    personal = [options for options in found if options.channel != HOUSEHOLD_PHONE]
    for group in (household, personal):
        if group:
            log_channels(session, batch_id, chunk_no, group, keep_guardian)
    if not dry_run:
        apply_logged(session, batch_id, chunk_no)
    return logged_counts(session, batch_id, chunk_no)
