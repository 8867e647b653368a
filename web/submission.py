"""Submit a batch from the API or the wizard: validate and insert, commit, then enqueue.

The plan task is enqueued only after the commit, so the worker always finds the row. If the
broker refuses the message the batch stays queued in the database and the sweeper plans it.
"""

import logging
from dataclasses import dataclass
from typing import Any

from shared.batch_service import submit_batch
from shared.pipeline import PLAN
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
        try:
            web_services.enqueue(PLAN, submitted.batch_id)
        except Exception:
            log.exception("batch=%d enqueue=failed task=%s", submitted.batch_id, PLAN)
        else:
            log.info("batch=%d enqueue=ok task=%s", submitted.batch_id, PLAN)
    return submitted
