"""preferences.csv: checking its rows against the subjects, and applying them, in SQL.

A preference row exists for every person channel with an address and every household with a
phone. Applying a row changes only the reasons where something differs (the value, or whether a
guardian set it), and those get the setter `guardian` (reason in guardianSet) or `import`; a
reason left as it was keeps its setter, which is what makes a re-import change nothing.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    Subquery,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from shared.core.db import rowcount
from shared.core.vocabulary import (
    ADDRESS_COLUMN,
    CHANNELS,
    HOUSEHOLD_PHONE,
    REASONS,
    SETTER_DEFAULT,
    SETTER_GUARDIAN,
    SETTER_IMPORT,
)
from shared.imports.native.formats import ENTITY_TABLES, HOUSEHOLDS, PEOPLE, PREFERENCES, FileSpec
from shared.imports.native.reading import Problems
from shared.imports.native.staging import staging
from shared.imports.native.summary import FileCounts
from shared.models import preferences
from shared.models.preferences import SETTER_COLUMNS

if TYPE_CHECKING:
    from shared.imports.native.validate import Bundle

PEOPLE_TABLE = ENTITY_TABLES["person"]
HOUSEHOLDS_TABLE = ENTITY_TABLES["household"]
UNREADABLE: Final = object()  # an address cell of the bundle that could not be read
_ADDRESS_BIT = 1 << PREFERENCES.columns.index("address")


@dataclass(frozen=True)
class SubjectKind:
    name: str  # the subjectType
    spec: FileSpec  # the file that defines them
    table: Table
    addresses: dict[str, tuple[str, str]]  # channel -> its column in the file, in the table


SUBJECT_KINDS = (
    SubjectKind(
        "person",
        PEOPLE,
        PEOPLE_TABLE,
        {name: (name, column) for name, column in ADDRESS_COLUMN.items()},
    ),
    SubjectKind(
        "household", HOUSEHOLDS, HOUSEHOLDS_TABLE, {CHANNELS[HOUSEHOLD_PHONE]: ("phone", "phone")}
    ),
)


def check(
    session: Session,
    files: "Bundle",
    defined: Mapping[str, set[str] | None],
    problems: Problems,
) -> None:
    """Subjects exist, a channel suits its subject and has an address equal to the row's.
    An address is the one of the bundle's file if it has the subject, else the database's.
    Subjects of a kind whose file could not be read are not checked (`defined` is None)."""
    if not {"subjectType", "subjectId", "channel", "address"} <= files[PREFERENCES.name].present:
        return
    for kind in SUBJECT_KINDS:
        if defined[kind.name] is None:
            continue
        entity_file = files.get(kind.spec.name)
        in_bundle = entity_file is not None and kind.spec.key[0] in entity_file.present
        for row in session.execute(_suspects(kind, in_bundle)):
            found = _problem(kind, row)
            if found is not None:
                problems.add(PREFERENCES, row.line, *found)


def _suspects(kind: SubjectKind, in_bundle: bool) -> Select[Any]:
    """The rows of the kind that may be wrong: all but those whose subject is found, readable,
    and has the channel's address equal to the row's."""
    rows = staging(PREFERENCES)
    table = kind.table
    stored = case(
        {name: func.nullif(table.c[column], "") for name, (_, column) in kind.addresses.items()},
        value=rows.c.channel,
    )
    columns: list[ColumnElement[Any]] = [table.c.id.label("stored_id")]
    columns += [
        table.c[column].label(f"stored_{name}") for name, (_, column) in kind.addresses.items()
    ]
    source = rows.outerjoin(table, table.c.ext_id == rows.c.subjectId)
    found: ColumnElement[bool] = table.c.id.is_not(None)
    known: ColumnElement[Any] = stored
    readable: ColumnElement[bool] = rows.c.bad == 0
    if in_bundle:
        bundle = staging(kind.spec)
        given = case(
            {name: bundle.c[column] for name, (column, _) in kind.addresses.items()},
            value=rows.c.channel,
        )
        columns += [bundle.c.line.label("given_line"), bundle.c.bad.label("given_bad")]
        columns += [
            bundle.c[column].label(f"given_{name}") for name, (column, _) in kind.addresses.items()
        ]
        source = source.outerjoin(bundle, bundle.c[kind.spec.key[0]] == rows.c.subjectId)
        in_file = bundle.c.line.is_not(None)
        found = or_(in_file, found)
        known = case((in_file, given), else_=stored)
        readable = and_(readable, func.coalesce(bundle.c.bad, 0) == 0)
    fine = and_(readable, found, rows.c.channel.in_(kind.addresses), rows.c.address == known)
    return (
        select(rows.c.line, rows.c.subjectId, rows.c.channel, rows.c.address, rows.c.bad, *columns)
        .select_from(source)
        .where(
            rows.c.subjectType == kind.name,
            rows.c.subjectId.is_not(None),
            ~func.coalesce(fine, False),
        )
    )


def _problem(kind: SubjectKind, row: Row[Any]) -> tuple[str, str] | None:
    """(column, what is wrong) with the row, if anything, as seen from its subject's addresses."""
    mapping = row._mapping
    ext_id, channel, address = row.subjectId, row.channel, row.address
    known: dict[str, object]
    if mapping.get("given_line") is not None:
        bits = {
            name: 1 << kind.spec.columns.index(column)
            for name, (column, _) in kind.addresses.items()
        }
        known = {
            name: UNREADABLE if row.given_bad & bits[name] else mapping[f"given_{name}"]
            for name in kind.addresses
        }
    elif row.stored_id is not None:
        known = {name: mapping[f"stored_{name}"] or None for name in kind.addresses}
    else:
        return "subjectId", f"unknown {kind.name} {ext_id!r}"
    if channel is None:  # unreadable: reported where it is read
        return None
    if kind.name == "household" and channel != CHANNELS[HOUSEHOLD_PHONE]:
        return "channel", "a household has only householdPhone"
    if kind.name == "person" and channel == CHANNELS[HOUSEHOLD_PHONE]:
        return "channel", "householdPhone is for households only"
    if known[channel] is UNREADABLE or row.bad & _ADDRESS_BIT:
        return None  # already reported where the address is read
    if known[channel] is None:
        return "address", f"{kind.name} {ext_id!r} has no {channel}"
    if address != known[channel]:
        return (
            "address",
            f"{address or ''!r} does not match the {channel} of {kind.name} {ext_id!r}, "
            f"{known[channel]!r}",
        )
    return None


def apply(session: Session, rows: int) -> FileCounts:
    """Apply the `rows` staged rows of preferences.csv. Inserted: the preference row did not
    exist before this import."""
    if not rows:
        return FileCounts()
    source = _source()
    updated = rowcount(session, _update(source))
    inserted = rowcount(session, _insert(source))
    return FileCounts(inserted, updated, rows - inserted - updated)


def _source() -> Subquery:
    """The staged rows: subject id, channel number, mask, and for each reason k whether it is
    on (on_k) and whether a guardian set it (guardian_k), as 0 or 1. The statements below name
    the reasons' columns rather than the mask's bits: a subquery's expressions are computed
    again wherever they are named."""
    rows = staging(PREFERENCES)
    guardian_set = literal("|") + rows.c.guardianSet + "|"
    columns = [
        case({name: n for n, name in enumerate(CHANNELS)}, value=rows.c.channel).label("channel"),
        reduce(add, (rows.c[reason] * (1 << k) for k, reason in enumerate(REASONS))).label("mask"),
        *(rows.c[reason].label(f"on_{k}") for k, reason in enumerate(REASONS)),
        *(
            case((guardian_set.like(f"%|{reason}|%"), 1), else_=0).label(f"guardian_{k}")
            for k, reason in enumerate(REASONS)
        ),
    ]
    return union_all(
        *(
            select(kind.table.c.id.label("subject_id"), *columns)
            .join(kind.table, kind.table.c.ext_id == rows.c.subjectId)
            .where(rows.c.subjectType == kind.name)
            for kind in SUBJECT_KINDS
        )
    ).subquery()


def _matches(source: Subquery) -> ColumnElement[bool]:
    return and_(
        preferences.c.subject_id == source.c.subject_id,
        preferences.c.channel == source.c.channel,
    )


def _update(source: Subquery) -> Any:
    """A reason whose value, or whether a guardian set it, differs gets the import's setter."""
    new_setters = {}
    changes = [preferences.c.mask != source.c.mask]
    for k, name in enumerate(SETTER_COLUMNS):
        setter = preferences.c[name]
        value_differs = preferences.c.mask.bitwise_and(1 << k) != source.c[f"on_{k}"] * (1 << k)
        guardian_differs = (setter == SETTER_GUARDIAN) != (source.c[f"guardian_{k}"] == 1)
        changes.append(guardian_differs)
        new_setters[name] = case(
            (or_(value_differs, guardian_differs), _import_setter(source, k)), else_=setter
        )
    return (
        update(preferences)
        .where(_matches(source), or_(*changes))
        .values(mask=source.c.mask, **new_setters)
    )


def _insert(source: Subquery) -> Any:
    """A new row: the reasons that are on, or that a guardian set, get the import's setter."""
    setters = [
        case(
            (source.c[f"guardian_{k}"] == 1, SETTER_GUARDIAN),
            (source.c[f"on_{k}"] == 1, SETTER_IMPORT),
            else_=SETTER_DEFAULT,
        )
        for k in range(len(REASONS))
    ]
    rows = select(source.c.subject_id, source.c.channel, source.c.mask, *setters).where(
        ~exists().where(_matches(source))
    )
    return insert(preferences).from_select(["subject_id", "channel", "mask", *SETTER_COLUMNS], rows)


def _import_setter(source: Subquery, k: int) -> ColumnElement[int]:
    return case((source.c[f"guardian_{k}"] == 1, SETTER_GUARDIAN), else_=SETTER_IMPORT)


def ensure_rows(session: Session) -> int:
    """Create the missing preference rows (all off, set by default); returns how many."""
    addresses: list[tuple[int, Table, ColumnElement[Any]]] = [
        (HOUSEHOLD_PHONE, HOUSEHOLDS_TABLE, HOUSEHOLDS_TABLE.c.phone)
    ] + [
        (CHANNELS.index(name), PEOPLE_TABLE, PEOPLE_TABLE.c[column])
        for name, column in ADDRESS_COLUMN.items()
    ]
    wanted = union_all(
        *(
            select(table.c.id.label("subject_id"), literal(channel).label("channel")).where(
                address.is_not(None), address != ""
            )
            for channel, table, address in addresses
        )
    ).subquery()
    missing = select(wanted, *[literal(0)] * (1 + len(SETTER_COLUMNS))).where(
        ~exists().where(
            preferences.c.subject_id == wanted.c.subject_id,
            preferences.c.channel == wanted.c.channel,
        )
    )
    targets = ["subject_id", "channel", "mask", *SETTER_COLUMNS]
    return rowcount(session, insert(preferences).from_select(targets, missing))
