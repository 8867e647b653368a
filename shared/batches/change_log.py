"""The change log of one batch: as CSV (`changes.csv`), streamed from the database, and the
first few of its changes, which a preview shows as its sample.

One row per (subject, channel, reason) that the batch changed, or for a dry run would change:
the value before and after, and who had set it before. Values left for a guardian are not
changes and are not listed, so the number of rows is the sum of the batch's counts. Rows are
ordered as the preference export orders them (households first, then people, by identifier in
code-point order, then by channel order), then by reason order.
"""

from collections.abc import Iterator
from typing import Annotated, Any, Final, Literal

from pydantic import WithJsonSchema
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from shared.batches.lookup import get_batch
from shared.core.contract import View
from shared.core.csv_lines import csv_line_writer
from shared.core.db import code_point_order
from shared.core.spreadsheet import neutralized
from shared.core.vocabulary import CHANNELS, HOUSEHOLD_PHONE, REASONS, setter_name
from shared.models import Household, Person, change_log
from shared.models.preferences import SETTER_COLUMNS

HEADER = ("subjectType", "subjectId", "channel", "reason", "before", "after", "setterBefore")
BATCH_ROWS = 5000
SAMPLE_SIZE: Final = 10
ChannelName = Annotated[str, WithJsonSchema({"type": "string", "enum": list(CHANNELS)})]


class SampleRow(View):
    """One value a preview would change: whose, on which channel, and each changed reason's
    new value."""

    subject_type: Literal["person", "household"]
    subject_id: str
    name: str
    channel: ChannelName
    changes: dict[str, Literal["on", "off"]]


def iter_changes_csv(
    session: Session, batch_id: int, batch_rows: int = BATCH_ROWS
) -> Iterator[str]:
    """The change log as CSV lines (each ending in CRLF), the header first.

    An unknown batch raises NotFound here, when called, rather than at the first line, so that
    a caller can answer 404 before it starts sending a file."""
    get_batch(session, batch_id)
    return _lines(session, batch_id, batch_rows)


def _lines(session: Session, batch_id: int, batch_rows: int) -> Iterator[str]:
    line = csv_line_writer()

    yield line(HEADER)
    for kind, statement in (
        ("household", _households(session, batch_id)),
        ("person", _people(session, batch_id)),
    ):
        result = session.execute(statement.execution_options(yield_per=batch_rows))
        for ext_id, channel, before, after, changed, *setters in result:
            for k, reason in enumerate(REASONS):
                if changed >> k & 1:
                    yield line(
                        (
                            kind,
                            neutralized(ext_id),
                            CHANNELS[channel],
                            reason,
                            before >> k & 1,
                            after >> k & 1,
                            setter_name(setters[k]),
                        )
                    )


def _households(session: Session, batch_id: int) -> Select[Any]:
    household = Household.__table__.c
    return (
        select(household.ext_id, *_logged())
        .join_from(change_log, Household, household.id == change_log.c.subject_id)
        .where(*_changed_in(batch_id), change_log.c.channel == HOUSEHOLD_PHONE)
        .order_by(code_point_order(session, household.ext_id))
    )


def _people(session: Session, batch_id: int) -> Select[Any]:
    person = Person.__table__.c
    return (
        select(person.ext_id, *_logged())
        .join_from(change_log, Person, person.id == change_log.c.subject_id)
        .where(*_changed_in(batch_id), change_log.c.channel != HOUSEHOLD_PHONE)
        .order_by(code_point_order(session, person.ext_id), change_log.c.channel)
    )


def _logged() -> list[ColumnElement[int]]:
    log = change_log.c
    return [
        log.channel,
        log.before_mask,
        log.after_mask,
        log.changed_mask,
        *(log[name] for name in SETTER_COLUMNS),
    ]


def _changed_in(batch_id: int) -> list[ColumnElement[bool]]:
    # A row that only kept values for a guardian has changed_mask 0: nothing of it is listed.
    return [change_log.c.batch_id == batch_id, change_log.c.changed_mask != 0]


def change_sample(session: Session, batch_id: int, size: int = SAMPLE_SIZE) -> list[SampleRow]:
    """The first `size` values the batch changes (or would), in the change log's key order (so
    even a million-row log answers from its index): who, which channel, and each changed
    reason's new value."""
    log = change_log.c
    first = (
        select(log.channel, log.subject_id, log.changed_mask, log.after_mask)
        .where(log.batch_id == batch_id, log.changed_mask != 0)
        .order_by(log.channel, log.subject_id)
        .limit(size)
        .subquery()
    )
    household = first.c.channel == HOUSEHOLD_PHONE
    rows = session.execute(
        select(
            first,
            Person.ext_id.label("person_id"),
            Person.first_name,
            Person.last_name,
            Household.ext_id.label("household_id"),
            Household.name.label("household_name"),
        )
        .outerjoin(Person, (Person.id == first.c.subject_id) & ~household)
        .outerjoin(Household, (Household.id == first.c.subject_id) & household)
        .order_by(first.c.channel, first.c.subject_id)
    )
    return [
        SampleRow(
            subject_type="household" if row.channel == HOUSEHOLD_PHONE else "person",
            subject_id=row.household_id if row.channel == HOUSEHOLD_PHONE else row.person_id,
            name=row.household_name
            if row.channel == HOUSEHOLD_PHONE
            else f"{row.first_name} {row.last_name}",
            channel=CHANNELS[row.channel],
            changes={
                reason: "on" if row.after_mask >> k & 1 else "off"
                for k, reason in enumerate(REASONS)
                if row.changed_mask >> k & 1
            },
        )
        for row in rows
    ]
