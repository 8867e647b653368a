"""What the API and the pages do to batches: submit, apply a preview, undo, cancel. Each one
validates and writes in one transaction, commits, and only then sends the messages the domain
handed back, so the worker always finds the rows they name. If the broker refuses a message,
the batch stays queued in the database and the sweeper sends it again."""

import logging
from collections.abc import Sequence

from shared.batches.actions import apply_preview, cancel_batch, undo_batch
from shared.batches.pipeline.messages import Message
from shared.batches.request import BatchRequest
from shared.batches.submit import Submitted, submit_batch
from web.auth import Principal, db_user
from web.services import services

log = logging.getLogger(__name__)


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
    _send(submitted.messages)
    return submitted


def _send(messages: Sequence[Message]) -> None:
    enqueue = services().enqueue
    for message in messages:
        try:
            enqueue(message.task, *message.args)
        except Exception:
            log.exception("enqueue=failed task=%s args=%s", message.task, message.args)
        else:
            log.info("enqueue=ok task=%s args=%s", message.task, message.args)
