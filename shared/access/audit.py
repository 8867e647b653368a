"""The audit log: what is recorded (every batch, undo, cancel, edit, import, sign-in and refusal,
with who and when), and reading it, newest first.

The log records usernames typed at the sign-in form, so only a district admin reads it
(web/access.py).
"""

from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.contract import Moment, View
from shared.models import AuditEntry

MAX_USERNAME_LENGTH: Final = 100
MAX_AUDIT_SUBJECT_LENGTH: Final = 200
MAX_REMOTE_ADDR_LENGTH: Final = 45  # an IPv6 address in text

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
) -> None:
    """One line of the audit log: `username` is who acted (None: the command line or the
    system), `subject` what it was about, `remote_addr` where the request came from."""
    # Cut to the columns' widths: a failed login records whatever name was typed.
    session.add(
        AuditEntry(
            username=None if username is None else username[:MAX_USERNAME_LENGTH],
            action=action,
            subject=None if subject is None else subject[:MAX_AUDIT_SUBJECT_LENGTH],
            detail=detail,
            remote_addr=None if remote_addr is None else remote_addr[:MAX_REMOTE_ADDR_LENGTH],
        )
    )


class AuditEntryView(View):
    id: int
    at: Moment
    username: str | None  # who acted; None for the command line or the system
    action: str
    subject: str | None
    detail: dict[str, Any] | None


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
