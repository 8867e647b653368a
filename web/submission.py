"""What the API and the pages do to batches: submit, apply a preview, undo, cancel. Each one
validates and writes in one transaction, commits, and only then sends the messages the domain
handed back, so the worker always finds the rows they name. If the broker refuses a message,
the batch stays queued in the database and the sweeper sends it again."""

import logging
from collections.abc import Sequence

from flask import request
from werkzeug.datastructures import FileStorage

from shared.batches.actions import apply_preview, cancel_batch, undo_batch
from shared.batches.import_jobs import submit_import
from shared.batches.pipeline.messages import Message
from shared.batches.request import BatchRequest
from shared.batches.submit import Submitted, submit_batch
from shared.core.errors import Conflict
from shared.models import Batch
from shared.schedules.runs import preview_run, run_now
from shared.schedules.service import visible_schedule
from web.auth import Principal, db_user
from web.services import services

log = logging.getLogger(__name__)

FORM_BYTES = 64 * 1024  # an upload form's own fields and multipart boundaries


def submit(
    request: BatchRequest, principal: Principal, *, idempotency_key: str | None = None
) -> Submitted:
    web_services = services()
    with web_services.session_factory.begin() as session:
        submitted = submit_batch(
            session,
            request,
            user=db_user(session, principal),
            today=web_services.today(),
            idempotency_key=idempotency_key,
        )
    return _sent(submitted)


def apply(preview_id: int, principal: Principal) -> Submitted:
    with services().session_factory.begin() as session:
        submitted = apply_preview(session, preview_id, user=db_user(session, principal))
    return _sent(submitted)


def undo(batch_id: int, principal: Principal) -> Submitted:
    with services().session_factory.begin() as session:
        submitted = undo_batch(session, batch_id, user=db_user(session, principal))
    return _sent(submitted)


def cancel(batch_id: int, principal: Principal) -> Submitted:
    web_services = services()
    with web_services.session_factory.begin() as session:
        submitted = cancel_batch(
            session, batch_id, user=db_user(session, principal), now=web_services.now()
        )
    return _sent(submitted)


def _sent(submitted: Submitted) -> Submitted:
    send(submitted.messages)
    return submitted


def allow_upload() -> None:
    """Let this request's body reach the import's limit (CPB_IMPORT_MAX_BYTES) and the form's
    own bytes; call before the form is read."""
    request.max_content_length = services().settings.import_max_bytes + FORM_BYTES


def submit_upload(upload: FileStorage, fmt: str, principal: Principal) -> int:
    """Queue an import of an uploaded bundle and return its id. The bundle is read up to one
    byte past the limit, so a larger one is refused without being held whole."""
    web_services = services()
    limit = web_services.settings.import_max_bytes
    with web_services.session_factory.begin() as session:
        job, submitted = submit_import(
            session,
            fmt=fmt,
            filename=upload.filename or "upload.zip",
            data=upload.read(limit + 1),
            user=db_user(session, principal),
            today=web_services.today(),
            max_bytes=limit,
        )
        job_id = job.id
    send(submitted.messages)
    return job_id


def send(messages: Sequence[Message]) -> None:
    """Enqueue messages after their transaction committed; a refusal is logged (the sweeper
    sends a queued batch's plan again)."""
    enqueue = services().enqueue
    for message in messages:
        try:
            enqueue(message.task, *message.args)
        except Exception:
            log.exception("enqueue=failed task=%s args=%s", message.task, message.args)
        else:
            log.info("enqueue=ok task=%s args=%s", message.task, message.args)


def run_schedule(schedule_id: int, principal: Principal) -> Submitted:
    """Run a schedule now. A run that could not create its batch is recorded, then refused
    with its reason."""
    web_services = services()
    with web_services.session_factory.begin() as session:
        user = db_user(session, principal)
        schedule = visible_schedule(session, schedule_id, user, for_update=True)
        claimed = run_now(
            session, schedule, web_services.now(), web_services.settings.zone, user=user
        )
        batch = session.get(Batch, claimed.run.batch_id) if claimed.run.batch_id else None
    if batch is None:  # the failed run is recorded: its transaction has committed
        raise Conflict(f"schedule {schedule_id} could not run: {claimed.run.reason}")
    return _sent(Submitted(batch, True, claimed.messages))


def preview_schedule(schedule_id: int, principal: Principal) -> Submitted:
    """A dry run of a schedule's template as of today: no run of the schedule."""
    web_services = services()
    with web_services.session_factory.begin() as session:
        user = db_user(session, principal)
        schedule = visible_schedule(session, schedule_id, user)
        submitted = preview_run(
            session, schedule, web_services.now(), web_services.settings.zone, user=user
        )
    return _sent(submitted)
