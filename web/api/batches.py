"""The batches: submit, list, read; and, on one batch, undo, cancel, and apply (a preview)."""

from flask import request, url_for

from shared.batches import lookup
from shared.batches.request import BatchRequest
from shared.batches.submit import Submitted
from shared.batches.views import BatchView, batch_view, batch_views
from shared.core.errors import InvalidRequest
from web import submission
from web.api.bodies import BatchAccepted, BatchList
from web.api.routes import Header, Link, api
from web.auth import db_user, require_principal
from web.queries import BatchListQuery
from web.services import services

MAX_IDEMPOTENCY_KEY = 200  # the column's width
IDEMPOTENCY_KEY = Header(
    "Idempotency-Key", "A resubmission with the same key returns the first batch", 200
)
BATCH_ID = {"batchId": "$response.body#/id"}
ON_A_BATCH = (
    Link("GetBatch", "get_batch", BATCH_ID),
    Link("GetBatchChanges", "batch_changes_csv", BATCH_ID),
    Link("UndoBatch", "undo_batch", BATCH_ID),
    Link("CancelBatch", "cancel_batch", BATCH_ID),
    Link("ApplyPreview", "apply_batch", BATCH_ID),
)


@api.post(
    "/batches",
    summary="Submit a batch",
    status=202,
    body=BatchRequest,
    response=BatchAccepted,
    headers=(IDEMPOTENCY_KEY,),
    links=ON_A_BATCH,
)
def submit_batch(body: BatchRequest) -> tuple[BatchAccepted, dict[str, str]]:
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidRequest(
            f"must be at most {MAX_IDEMPOTENCY_KEY} characters", field="Idempotency-Key"
        )
    return accepted(submission.submit(body, require_principal(), idempotency_key=key))


@api.get("/batches", summary="The batches, newest first", query=BatchListQuery, response=BatchList)
def list_batches(query: BatchListQuery) -> BatchList:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        batches, total = lookup.list_batches(
            session,
            page=query.page,
            per_page=query.per_page,
            selection=query.selection(services().settings.zone),
            user=user,
        )
        return BatchList(
            items=batch_views(session, batches),
            page=query.page,
            per_page=query.per_page,
            total=total,
        )


@api.get(
    "/batches/<id:batch_id>",
    summary="One batch: status, progress and, once finished, the result",
    response=BatchView,
)
def get_batch(batch_id: int) -> BatchView:
    with services().session_factory() as session:
        user = db_user(session, require_principal())
        return batch_view(session, lookup.visible_batch(session, batch_id, user))


@api.post(
    "/batches/<id:batch_id>/undo",
    summary="Undo a finished batch: restore each value it changed, with its setter, unless it "
    "changed since (counted as a conflict). Runs as a batch of kind undo",
    status=202,
    response=BatchAccepted,
    errors=(409,),
    links=ON_A_BATCH[:2],
)
def undo_batch(batch_id: int) -> tuple[BatchAccepted, dict[str, str]]:
    return accepted(submission.undo(batch_id, require_principal()))


@api.post(
    "/batches/<id:batch_id>/cancel",
    summary="Stop a queued or running batch between chunks; what it applied stays recorded "
    "and can be undone",
    response=BatchView,
    errors=(409,),
)
def cancel_batch(batch_id: int) -> BatchView:
    submission.cancel(batch_id, require_principal())
    return get_batch(batch_id)


@api.post(
    "/batches/<id:batch_id>/apply",
    summary="Apply a preview (a dry run that succeeded): the same request, for real. A preview "
    "is applied once; applying it again returns that batch",
    status=202,
    response=BatchAccepted,
    errors=(409,),
    links=ON_A_BATCH,
)
def apply_batch(batch_id: int) -> tuple[BatchAccepted, dict[str, str]]:
    return accepted(submission.apply(batch_id, require_principal()))


def accepted(submitted: Submitted) -> tuple[BatchAccepted, dict[str, str]]:
    url = url_for("api.get_batch", batch_id=submitted.batch.id)
    accepted = BatchAccepted(id=submitted.batch.id, status=submitted.batch.status, url=url)
    return accepted, {"Location": url}
