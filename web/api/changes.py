"""A batch as CSV: its change log (`changes.csv`, streamed) and its result (`result.csv`)."""

from collections.abc import Iterator

from flask import Response

from shared.batches.change_log import iter_changes_csv
from shared.batches.lookup import visible_batch
from shared.batches.views import batch_view
from shared.core.db import read_session
from shared.core.errors import Conflict
from shared.core.spreadsheet import csv_lines
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


@api.get(
    "/batches/<id:batch_id>/result.csv",
    summary="A finished batch's result as CSV, one row per channel and reason it set: "
    "channel,reason,option,changed,kept (an undo: channel,reason,restored,conflicts)",
    response=CSV,
    errors=(409,),
)
def batch_result_csv(batch_id: int) -> Response:
    with services().session_factory() as session:
        batch = batch_view(
            session, visible_batch(session, batch_id, db_user(session, require_principal()))
        )
    result = batch.result
    if result is None:
        raise Conflict(f"batch {batch_id} has no result yet: it is {batch.status}")
    undo = batch.undo_of is not None
    second = result.conflicts if undo and result.conflicts is not None else result.kept
    header = (
        "channel",
        "reason",
        *(("restored", "conflicts") if undo else ("option", "changed", "kept")),
    )
    rows = [
        (channel, reason, *(() if undo else (batch.changes[channel][reason],)), str(count),
         str(second[channel][reason] or 0))
        for channel, counts in result.counts.items()
        for reason, count in counts.items()
        if count is not None
    ]  # fmt: skip
    return Response(
        "".join(csv_lines(header, rows)),
        mimetype=CSV,
        headers={"Content-Disposition": f'attachment; filename="batch-{batch_id}-result.csv"'},
    )
