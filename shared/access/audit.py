"""The audit log: what is recorded (every batch, undo, cancel, edit, import, sign-in and refusal,
with who and when), and reading it, newest first.

The log records usernames typed at the sign-in form, so only a district admin reads it
(web/access.py).
"""

from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from shared.access.turns import take_turn
from shared.core.contract import Moment, View
from shared.models import AuditEntry
from shared.models.base import utcnow

MAX_USERNAME_LENGTH: Final = 100
MAX_AUDIT_SUBJECT_LENGTH: Final = 200
MAX_REMOTE_ADDR_LENGTH: Final = 45  # an IPv6 address in text
COUNTED_WINDOW: Final = timedelta(minutes=15)
# pg_advisory_xact_lock class of counted refusals: "cpb" and 4.
COUNTED_TURN: Final = 0x637062_04

# The actions the product records, in the order a filter offers them.
ACTIONS: Final = (
    "batch.submit",
    "batch.preview",
    "batch.undo",
    "batch.cancel",
    "preferences.edit",
    "import.csv",
    "import.oneroster",
    "import.submit",
    "import.succeeded",
    "import.failed",
    "defaults.update",
    "login",
    "login.failed",
    "login.throttled",
    "logout",
    "access.denied",
    "user.create",
    "user.update",
    "token.create",
    "token.revoke",
    "token.use",
    "token.refused",
    "filter.create",
    "filter.update",
    "filter.delete",
    "schedule.create",
    "schedule.update",
    "schedule.pause",
    "schedule.resume",
    "schedule.delete",
    "schedule.run",
    "schedule.run.failed",
)


def record_audit(
    session: Session,
    *,
    username: str | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
    at: datetime | None = None,
) -> None:
    """One line of the audit log: `username` is who acted (None: the command line or the
    system), `subject` what it was about, `remote_addr` where the request came from, `at` when
    (now, unless given)."""
    # Cut to the columns' widths: a failed login records whatever name was typed.
    session.add(
        AuditEntry(
            username=None if username is None else username[:MAX_USERNAME_LENGTH],
            action=action,
            subject=None if subject is None else subject[:MAX_AUDIT_SUBJECT_LENGTH],
            detail=detail,
            remote_addr=None if remote_addr is None else remote_addr[:MAX_REMOTE_ADDR_LENGTH],
            at=at or utcnow(),
        )
    )


def record_counted(
    session: Session,
    *,
    username: str | None,
    action: str,
    subject: str | None,
    detail: dict[str, Any] | None,
    remote_addr: str | None,
    now: datetime | None = None,
) -> None:
    """An anonymous refusal, counted: the first of its kind (the action, the address and the
    subject) within COUNTED_WINDOW is an entry; the next ones add to that entry's `times`
    instead of each writing a row, so a flood of them cannot grow the log without bound. They
    take their turn per address, so none is lost and no two entries start at once."""
    now = now or utcnow()
    take_turn(session, COUNTED_TURN, f"{action} {remote_addr}")
    address = recorded_from(remote_addr)
    about = subject if subject is None else subject[:MAX_AUDIT_SUBJECT_LENGTH]
    same = AuditEntry.subject.is_(None) if about is None else AuditEntry.subject == about
    entry_id = session.scalar(
        select(AuditEntry.id)
        .where(AuditEntry.action == action, address, same, AuditEntry.at > now - COUNTED_WINDOW)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry_id is None:
        record_audit(
            session,
            username=username,
            action=action,
            subject=subject,
            detail=detail,
            remote_addr=remote_addr,
            at=now,
        )
    else:
        session.execute(
            update(AuditEntry).where(AuditEntry.id == entry_id).values(times=AuditEntry.times + 1)
        )


def recorded_from(remote_addr: str | None) -> ColumnElement[bool]:
    """A condition on `AuditEntry`: recorded from `remote_addr` as `record_audit` stores it
    (cut to the column's width; None, the command line, matches entries without one)."""
    if remote_addr is None:
        return AuditEntry.remote_addr.is_(None)
    return AuditEntry.remote_addr == remote_addr[:MAX_REMOTE_ADDR_LENGTH]


class AuditEntryView(View):
    id: int
    at: Moment
    username: str | None  # who acted; None for the command line or the system
    action: str
    subject: str | None
    detail: dict[str, Any] | None
    remote_addr: str | None  # where the request came from
    times: int  # more than 1: a refusal counted that often (one entry per quarter of an hour)


def list_audit(
    session: Session,
    *,
    page: int,
    per_page: int,
    action: str | None = None,
    username: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """One page of entries (from 1), newest first, and how many entries match in all."""
    query = select(AuditEntry)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if username is not None:
        query = query.where(AuditEntry.username == username)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    entries = session.scalars(
        query.order_by(AuditEntry.id.desc()).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return list(entries), total


def audit_entry_view(entry: AuditEntry) -> AuditEntryView:
    return AuditEntryView.model_validate(entry, from_attributes=True)
