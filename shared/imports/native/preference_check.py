"""preferences.csv checked against the subjects it names, in SQL: each row's subject exists,
its channel suits the subject, and its address is the subject's (as the bundle gives it, else as
stored). A row whose address the bundle quarantined is skipped and reported."""

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import ColumnElement, Row, Select, and_, case, delete, func, or_, select
from sqlalchemy.orm import Session

from shared.core.vocabulary import CHANNELS, HOUSEHOLD_PHONE
from shared.imports.findings import Finding, FindingKind, Findings
from shared.imports.native.formats import PREFERENCES
from shared.imports.native.preference_rows import SUBJECT_KINDS, SubjectKind
from shared.imports.native.queries import chunked
from shared.imports.native.reading import Problems
from shared.imports.native.staging import staging

if TYPE_CHECKING:
    from shared.imports.native.validate import Bundle

UNREADABLE: Final = object()  # an address cell of the bundle that was quarantined
QUARANTINED: Final = object()  # a row to skip: its address was quarantined
_ADDRESS_BIT = 1 << PREFERENCES.columns.index("address")


def check(
    session: Session,
    files: "Bundle",
    defined: Mapping[str, set[str] | None],
    problems: Problems,
    findings: Findings,
) -> int:
    """Subjects exist, a channel suits its subject and has an address equal to the row's.
    An address is the one of the bundle's file if it has the subject, else the database's.
    Subjects of a kind whose file could not be read are not checked (`defined` is None).

    A row whose address the bundle's file quarantined is skipped: reported in `findings` and
    taken out of the staged rows. Returns how many were skipped."""
    if not {"subjectType", "subjectId", "channel", "address"} <= files[PREFERENCES.name].present:
        return 0
    skipped: list[int] = []
    for kind in SUBJECT_KINDS:
        if defined[kind.name] is None:
            continue
        entity_file = files.get(kind.spec.name)
        in_bundle = entity_file is not None and kind.spec.key[0] in entity_file.present
        for row in session.execute(_suspects(kind, in_bundle)):
            found = _problem(kind, row)
            if found is QUARANTINED:
                skipped.append(row.line)
                findings.add(_skipped(kind, row))
            elif isinstance(found, tuple):
                problems.add(PREFERENCES, row.line, *found)
    stage = staging(PREFERENCES)
    for lines in chunked(skipped):
        session.execute(delete(stage).where(stage.c.line.in_(lines)))
    return len(skipped)


def _skipped(kind: SubjectKind, row: Row[Any]) -> Finding:
    return Finding(
        FindingKind.SKIPPED,
        PREFERENCES.name,
        row.line,
        "address",
        row.address or "",
        f"the {row.channel} of {kind.name} {row.subjectId!r} was quarantined "
        f"({kind.spec.name}:{row.given_line}); row skipped",
    )


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


def _problem(kind: SubjectKind, row: Row[Any]) -> tuple[str, str] | object | None:
    """(column, what is wrong) with the row, if anything, as seen from its subject's addresses;
    QUARANTINED if the bundle's file quarantined the address of the row's channel."""
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
    if known[channel] is UNREADABLE:
        return QUARANTINED
    if row.bad & _ADDRESS_BIT:
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
