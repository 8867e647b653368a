"""The audit log page: who did what and when, newest first, for district admins only."""

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from flask import Blueprint, render_template

from shared.access.audit import ACTIONS, AuditEntryView, audit_entry_view, list_audit
from web.params import page_count
from web.queries import PER_PAGE, AuditQuery, query_of
from web.services import services

ACTION_LABELS: Final = {
    "batch.submit": "Batch submitted",
    "batch.preview": "Preview",
    "batch.undo": "Undo",
    "batch.cancel": "Cancel",
    "preferences.edit": "Preferences edited",
    "import.csv": "CSV import",
    "import.oneroster": "OneRoster import",
    "import.submit": "Import uploaded",
    "import.succeeded": "Import finished",
    "import.failed": "Import failed",
    "defaults.update": "Default grid set",
    "login": "Sign-in",
    "login.failed": "Failed sign-in",
    "login.throttled": "Sign-in refused: too many failures",
    "logout": "Sign-out",
    "access.denied": "Refused (403)",
    "user.create": "User created",
    "user.update": "User changed",
    "token.create": "API token created",
    "token.revoke": "API token revoked",
    "token.use": "API token used",
    "token.refused": "API token refused",
    "filter.create": "Filter created",
    "filter.update": "Filter changed",
    "filter.delete": "Filter deleted",
    "schedule.create": "Schedule created",
    "schedule.update": "Schedule changed",
    "schedule.pause": "Schedule paused",
    "schedule.resume": "Schedule resumed",
    "schedule.delete": "Schedule deleted",
    "schedule.run": "Scheduled run",
    "schedule.run.failed": "Scheduled run failed",
}
BATCH_SUBJECT = re.compile(r"batch:([0-9]+)")


bp = Blueprint("audit", __name__)


@bp.get("/audit", endpoint="log")
def audit_log() -> str:
    query = query_of(AuditQuery, forms=True)
    page, action, username = query.page, query.action, query.username
    with services().session_factory() as session:
        entries, total = list_audit(
            session, page=page, per_page=PER_PAGE, action=action, username=username
        )
        rows = [_row(audit_entry_view(entry)) for entry in entries]
    return render_template(
        "audit.html",
        rows=rows,
        page=page,
        total=total,
        pages=page_count(total, PER_PAGE),
        action=action,
        username=username,
        actions=[(value, ACTION_LABELS[value]) for value in ACTIONS],
    )


@dataclass(frozen=True)
class AuditRow:
    """An entry as the page shows it: in words, with a link when it is about a batch."""

    at: datetime
    who: str
    action: str
    subject: str
    batch_id: int | None
    detail: str


def _row(entry: AuditEntryView) -> AuditRow:
    subject = entry.subject
    batch = BATCH_SUBJECT.fullmatch(subject) if subject else None
    return AuditRow(
        at=entry.at,
        who=entry.username or "system",
        action=_counted(ACTION_LABELS.get(entry.action, entry.action), entry.times),
        subject=subject or "",
        batch_id=int(batch.group(1)) if batch else None,
        detail=detail_text(entry.detail),
    )


def _counted(label: str, times: int) -> str:
    """A refusal counted in one entry (repeats from one address within a quarter of an hour)."""
    return label if times == 1 else f"{label} ({times:,} times in 15 minutes)"


def detail_text(detail: dict[str, Any] | None) -> str:
    """`key: value; key: value`, strings as they are and anything else as compact JSON."""
    if not detail:
        return ""
    return "; ".join(
        f"{key}: {value if isinstance(value, str) else _compact_json(value)}"
        for key, value in detail.items()
    )


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
