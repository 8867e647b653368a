"""What the API and the pages do to batches: submit, apply a preview, undo, cancel. Each one
validates and writes in one transaction, commits, and only then sends its messages.

A plan is enqueued only after the commit, so the worker always finds the row. If the broker
refuses a message the batch stays queued in the database and the sweeper plans it.
"""

import logging
from dataclasses import dataclass
from typing import Any

from shared.batches.actions import apply_preview, cancel_batch, undo_batch
from shared.batches.pipeline.steps import PLAN, Message
from shared.batches.service import submit_batch
from web.auth import Principal, db_user
from web.services import services

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Submitted:
    batch_id: int
    status: str
    created: bool  # False: the idempotency key was seen before; this is the first batch


def submit(payload: Any, principal: Principal, *, idempotency_key: str | None = None) -> Submitted:
    web_services = services()
    with web_services.session_factory.begin() as session:
        batch, created = submit_batch(
            session,
            payload,
            user=db_user(session, principal),
            today=web_services.today(),
            idempotency_key=idempotency_key,
        )
        submitted = Submitted(batch.id, batch.status, created)
    if submitted.created:
        _send([Message(PLAN, (submitted.batch_id,))])
    return submitted


def apply(preview_id: int, principal: Principal) -> Submitted:
    with services().session_factory.begin() as session:
        batch, created = apply_preview(session, preview_id, user=db_user(session, principal))
        submitted = Submitted(batch.id, batch.status, created)
    if submitted.created:
        _send([Message(PLAN, (submitted.batch_id,))])
    return submitted


def undo(batch_id: int, principal: Principal) -> Submitted:
    with services().session_factory.begin() as session:
        batch = undo_batch(session, batch_id, user=db_user(session, principal))
        submitted = Submitted(batch.id, batch.status, True)
    _send([Message(PLAN, (submitted.batch_id,))])
    return submitted


def cancel(batch_id: int, principal: Principal) -> None:
    web_services = services()
    with web_services.session_factory.begin() as session:
        _, messages = cancel_batch(
            session, batch_id, user=db_user(session, principal), now=web_services.now()
        )
    _send(messages)


def _send(messages: list[Message]) -> None:
    enqueue = services().enqueue
    for message in messages:
        try:
            enqueue(message.task, *message.args)
        except Exception:
            log.exception("enqueue=failed task=%s args=%s", message.task, message.args)
        else:
            log.info("enqueue=ok task=%s args=%s", message.task, message.args)
