"""GET /api/v1/batches/<id>/changes.csv: a batch's change log, streamed as CSV."""

from collections.abc import Iterator

from flask import Response

from shared.batches.change_log import iter_changes_csv
from shared.batches.lookup import visible_batch
from shared.core.db import read_session
from web.api.routes import CSV, api
from web.auth import db_user, require_principal
from web.services import services


@api.get(
    "/batches/<id:batch_id>/changes.csv",
    summary="A batch's change log (for a preview: what would change), streamed as CSV: "
    "subjectType,subjectId,channel,reason,before,after,setterBefore, one row per value",
    response=CSV,
)
def batch_changes_csv(batch_id: int) -> Response:
    session_factory = services().session_factory
    # An unknown batch must be a 404, decided before the 200 of the stream is sent.
    with session_factory() as session:
        visible_batch(session, batch_id, db_user(session, require_principal()))

    def lines() -> Iterator[str]:
        # The session lives as long as the stream: rows are read while they are sent, in a
        # read-only session, so a slow download never holds up a writer.
        with read_session(session_factory) as session:
            yield from iter_changes_csv(session, batch_id)

    return Response(
        lines(),
        mimetype=CSV,
        headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-changes.csv"'},
    )
