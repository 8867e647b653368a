"""Reading the audit log: a page of entries, newest first, and who may read it (SPEC section 9).

The log records logins and usernames typed at the sign-in form, so only a district admin reads it
(web/access.py).
"""

from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.errors import InvalidRequest
from shared.models import AuditEntry

# The actions the product records, in the order a filter offers them.
ACTIONS: Final = (
    "batch.submit",
    "batch.preview",
    "batch.undo",
    "batch.cancel",
    "preferences.edit",
    "import.csv",
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
)


def list_audit(
    session: Session,
    *,
    page: int,
    per_page: int,
    action: str | None = None,
    username: str | None = None,
) -> tuple[list[AuditEntry], int]:
    """One page of entries, newest first, and how many entries match in all."""
    if page < 1:
        raise InvalidRequest("must be 1 or more", field="page")
    if per_page < 1:
        raise InvalidRequest("must be 1 or more", field="perPage")
    if action is not None and action not in ACTIONS:
        raise InvalidRequest(f"must be one of {', '.join(ACTIONS)}", field="action")
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


def audit_entry_view(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": _utc_iso(entry.at),
        "username": entry.username,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }


def _utc_iso(moment: datetime) -> str:
    """In UTC with its offset on every database (SQLite gives back a naive UTC time)."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()
