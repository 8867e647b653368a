"""The change log of one batch as CSV (SPEC section 5, `changes.csv`), streamed from the database.

One row per (subject, channel, reason) that the batch changed, or for a dry run would change:
the value before and after, and who had set it before. Values left for a guardian are not
changes and are not listed, so the number of rows is the sum of the batch's counts. Rows are
ordered as the preference export orders them (households first, then people, by identifier in
code-point order, then by channel order), then by reason order.
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session

from shared.batches.service import get_batch
from shared.core.csv_lines import csv_line_writer
from shared.core.db import code_point_order
from shared.core.vocabulary import CHANNELS, HOUSEHOLD_PHONE, REASONS, setter_name
from shared.models import Household, Person, change_log
from shared.models.preferences import SETTER_COLUMNS

HEADER = ("subjectType", "subjectId", "channel", "reason", "before", "after", "setterBefore")
BATCH_ROWS = 5000


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
                            ext_id,
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
