"""GET /api/v1/audit: the audit log, newest first, for district admins only."""

from typing import Any

from flask import Blueprint

from shared.access.audit import audit_entry_view, list_audit
from web.params import optional_arg, positive_int_arg
from web.services import services

PER_PAGE = 50
MAX_PER_PAGE = 200


def register(api: Blueprint) -> None:
    api.add_url_rule("/audit", "list_audit", list_audit_, methods=["GET"])


def list_audit_() -> dict[str, Any]:
    page = positive_int_arg("page", 1)
    per_page = positive_int_arg("perPage", PER_PAGE, maximum=MAX_PER_PAGE)
    action = optional_arg("action")  # list_audit says which actions there are
    username = optional_arg("username")
    with services().session_factory() as session:
        entries, total = list_audit(
            session, page=page, per_page=per_page, action=action, username=username
        )
        items = [audit_entry_view(entry) for entry in entries]
    return {"items": items, "page": page, "perPage": per_page, "total": total}
