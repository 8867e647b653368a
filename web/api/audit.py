"""GET /api/v1/audit: the audit log, newest first, for district admins only."""

from shared.access import audit
from web.api.bodies import AuditList
from web.api.routes import api
from web.queries import AuditQuery
from web.services import services


@api.get(
    "/audit",
    summary="The audit log, newest first (district admins only)",
    query=AuditQuery,
    response=AuditList,
)
def list_audit(query: AuditQuery) -> AuditList:
    with services().session_factory() as session:
        entries, total = audit.list_audit(
            session,
            page=query.page,
            per_page=query.per_page,
            action=query.action,
            username=query.username,
        )
        return AuditList(
            items=[audit.audit_entry_view(entry) for entry in entries],
            page=query.page,
            per_page=query.per_page,
            total=total,
        )
