"""preferences.csv: checking its rows against the subjects, and applying them.

A preference row exists for every person channel with an address and every household with a
phone. Applying a row changes only the reasons where something differs (the value, or whether a
guardian set it), and those get the setter `guardian` (reason in guardianSet) or `import`; a
reason left as it was keeps its setter, which is what makes a re-import change nothing.
"""

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Table,
    Update,
    and_,
    bindparam,
    exists,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from shared.csv_import.bulk import insert_rows
from shared.csv_import.formats import ENTITY_TABLES, HOUSEHOLDS, PEOPLE, PREFERENCES
from shared.csv_import.lookup import rows_where_in
from shared.csv_import.reading import INVALID, ParsedFile, Problems
from shared.csv_import.summary import FileCounts
from shared.models import preferences
from shared.models.preferences import SETTER_COLUMNS
from shared.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASONS,
    SETTER_DEFAULT,
    SETTER_GUARDIAN,
    SETTER_IMPORT,
    mask_of,
)

if TYPE_CHECKING:
    from shared.csv_import.validate import Files

PEOPLE_TABLE = ENTITY_TABLES["person"]
HOUSEHOLDS_TABLE = ENTITY_TABLES["household"]
_REASON_AT = PREFERENCES.columns.index(REASONS[0])

NEVER_SET: tuple[int, tuple[int, ...]] = (0, (SETTER_DEFAULT,) * len(REASONS))
Addresses = dict[str, tuple[Any, ...]]  # ext id -> address per channel (index 0 unused for people)


def check(
    session: Session,
    files: "Files",
    defined: Mapping[str, set[str] | None],
    problems: Problems,
) -> None:
    """Subjects exist, a channel suits its subject and has an address equal to the row's.
    Subjects of a kind whose file could not be read are not checked (`defined` is None)."""
    parsed = files[PREFERENCES.name]
    if not {"subjectType", "subjectId", "channel", "address"} <= parsed.present:
        return
    wanted: dict[str, set[str]] = {"person": set(), "household": set()}
    for row in parsed.rows:
        kind, ext_id = row.values[0], row.values[1]
        if kind in wanted and ext_id is not INVALID:
            wanted[kind].add(ext_id)
    subjects = {
        "person": _person_addresses(session, files.get(PEOPLE.name), wanted["person"]),
        "household": _household_phones(session, files.get(HOUSEHOLDS.name), wanted["household"]),
    }
    for row in parsed.rows:
        kind, ext_id, channel, address = row.values[:4]
        if kind is INVALID or ext_id is INVALID or defined[kind] is None:
            continue
        known = subjects[kind].get(ext_id)
        if known is None:
            problems.add(PREFERENCES, row.line, "subjectId", f"unknown {kind} {ext_id!r}")
            continue
        if channel is INVALID:
            continue
        name = CHANNELS[channel]
        if kind == "household" and channel != HOUSEHOLD_PHONE:
            problems.add(PREFERENCES, row.line, "channel", "a household has only householdPhone")
        elif kind == "person" and channel == HOUSEHOLD_PHONE:
            problems.add(PREFERENCES, row.line, "channel", "householdPhone is for households only")
        elif known[channel] is INVALID or address is INVALID:
            continue  # already reported where the address is read
        elif known[channel] is None:
            problems.add(PREFERENCES, row.line, "address", f"{kind} {ext_id!r} has no {name}")
        elif address != known[channel]:
            problems.add(
                PREFERENCES,
                row.line,
                "address",
                f"{address or ''!r} does not match the {name} of {kind} {ext_id!r}, "
                f"{known[channel]!r}",
            )


def _person_addresses(session: Session, people: ParsedFile | None, ext_ids: set[str]) -> Addresses:
    names = list(ADDRESS_COLUMN)
    found: Addresses = {}
    if people is not None and "personId" in people.present:
        at = [people.index(n) if n in people.present else None for n in names]
        for row in people.rows:
            if row.values[0] in ext_ids:
                addresses = (row.values[a] if a is not None else INVALID for a in at)
                found.setdefault(row.values[0], (None, *addresses))
    missing = ext_ids - found.keys()
    columns = [PEOPLE_TABLE.c[ADDRESS_COLUMN[name]] for name in names]
    for stored in rows_where_in(session, columns, PEOPLE_TABLE.c.ext_id, missing):
        found[stored[-1]] = (None, *(_address(value) for value in stored[:-1]))
    return found


def _household_phones(
    session: Session, households: ParsedFile | None, ext_ids: set[str]
) -> Addresses:
    found: Addresses = {}
    if households is not None and "householdId" in households.present:
        at = households.index("phone") if "phone" in households.present else None
        for row in households.rows:
            if row.values[0] in ext_ids:
                found.setdefault(row.values[0], (row.values[at] if at is not None else INVALID,))
    missing = ext_ids - found.keys()
    table = HOUSEHOLDS_TABLE
    for phone, ext_id in rows_where_in(session, [table.c.phone], table.c.ext_id, missing):
        found[ext_id] = (_address(phone),)
    return found


def _address(value: str | None) -> str | None:
    return value or None


def ensure_rows(session: Session) -> int:
    """Create the missing preference rows (all off, set by default); returns how many."""
    defaults = [literal(0)] * (1 + len(SETTER_COLUMNS))
    targets = ["subject_id", "channel", "mask", *SETTER_COLUMNS]
    sources: list[tuple[int, Table, ColumnElement[Any]]] = [
        (HOUSEHOLD_PHONE, HOUSEHOLDS_TABLE, HOUSEHOLDS_TABLE.c.phone)
    ] + [
        (CHANNELS.index(name), PEOPLE_TABLE, PEOPLE_TABLE.c[column])
        for name, column in ADDRESS_COLUMN.items()
    ]
    created = 0
    for channel, table, address in sources:
        missing = ~exists().where(
            preferences.c.subject_id == table.c.id, preferences.c.channel == channel
        )
        rows = select(table.c.id, literal(channel), *defaults).where(
            address.is_not(None), address != "", missing
        )
        statement = insert(preferences).from_select(targets, rows)
        result = session.execute(statement.execution_options(preserve_rowcount=True))
        created += result.rowcount  # type: ignore[attr-defined]
    return created


def apply(
    session: Session, parsed: ParsedFile | None, ids: Mapping[str, Mapping[str, int]]
) -> tuple[FileCounts, int]:
    """Apply the file's rows, and make sure every preference row exists.

    Returns the counts for preferences.csv (inserted = its preference row did not exist
    before this import) and how many preference rows were created in all.
    """
    wanted: dict[tuple[int, int], tuple[int, int]] = {}
    for row in parsed.rows if parsed is not None else ():
        kind, ext_id, channel = row.values[:3]
        flags = row.values[_REASON_AT : _REASON_AT + len(REASONS)]
        value = sum(1 << k for k, on in enumerate(flags) if on)
        wanted[(ids[kind][ext_id], channel)] = (value, mask_of(tuple(row.values[-1])))
    before = _current(session, wanted.keys())
    inserts: list[dict[str, int]] = []
    updates: list[dict[str, int]] = []
    for (subject_id, channel), (value, guardian) in wanted.items():
        old = before.get((subject_id, channel))
        new = merge(*(old or NEVER_SET), value, guardian)
        if old is None:
            inserts.append(_row(subject_id, channel, *new))
        elif new != old:
            updates.append(_update_params(subject_id, channel, *new))
    insert_rows(session, preferences, inserts)
    if updates:
        session.execute(_update_statement(), updates)
    created = len(inserts) + ensure_rows(session)
    unchanged = len(wanted) - len(inserts) - len(updates)
    return FileCounts(len(inserts), len(updates), unchanged), created


def merge(
    old_mask: int, old_setters: tuple[int, ...], mask: int, guardian_mask: int
) -> tuple[int, tuple[int, ...]]:
    """The imported value; a reason that differs in value or guardian-ness gets a new setter."""
    setters = list(old_setters)
    for k in range(len(REASONS)):
        bit = 1 << k
        by_guardian = bool(guardian_mask & bit)
        if (old_mask ^ mask) & bit or (old_setters[k] == SETTER_GUARDIAN) != by_guardian:
            setters[k] = SETTER_GUARDIAN if by_guardian else SETTER_IMPORT
    return mask, tuple(setters)


def _current(
    session: Session, keys: Collection[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, tuple[int, ...]]]:
    """The stored (mask, setters) of those of the preference rows `keys` that exist."""
    columns = [preferences.c.channel, preferences.c.mask, *_setter_columns()]
    found: dict[tuple[int, int], tuple[int, tuple[int, ...]]] = {}
    for personal in (False, True):
        subjects = {s for s, channel in keys if (channel != HOUSEHOLD_PHONE) == personal}
        channel_matches = (
            preferences.c.channel != HOUSEHOLD_PHONE
            if personal
            else preferences.c.channel == HOUSEHOLD_PHONE
        )
        for row in rows_where_in(
            session, columns, preferences.c.subject_id, subjects, channel_matches
        ):
            channel, mask, *setters, subject_id = row
            if (subject_id, channel) in keys:
                found[(subject_id, channel)] = (mask, tuple(setters))
    return found


def _setter_columns() -> list[ColumnElement[int]]:
    return [preferences.c[name] for name in SETTER_COLUMNS]


def _row(subject_id: int, channel: int, mask: int, setters: tuple[int, ...]) -> dict[str, int]:
    row = {"subject_id": subject_id, "channel": channel, "mask": mask}
    row.update(zip(SETTER_COLUMNS, setters, strict=True))
    return row


def _update_params(
    subject_id: int, channel: int, mask: int, setters: tuple[int, ...]
) -> dict[str, int]:
    params = {"k_subject": subject_id, "k_channel": channel, "v_mask": mask}
    params.update(
        {f"v_{name}": setter for name, setter in zip(SETTER_COLUMNS, setters, strict=True)}
    )
    return params


def _update_statement() -> Update:
    return (
        update(preferences)
        .where(
            and_(
                preferences.c.subject_id == bindparam("k_subject"),
                preferences.c.channel == bindparam("k_channel"),
            )
        )
        .values(mask=bindparam("v_mask"), **{n: bindparam(f"v_{n}") for n in SETTER_COLUMNS})
    )
