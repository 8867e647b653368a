"""What the sweeper re-sends, found in seconds (docs/reliability.md, "Recovery").

The database lists the plans and chunks still to do whose rows no live transaction holds
(shared/batches/pipeline/recovery.py). Each of them is waiting for its message somewhere: in the
broker's queue, or with a live worker (received and waiting for a pool process, or waiting to
retry). What is in neither place was lost with a worker or with the queue, and is sent again.

The order of the questions makes a message that moves meanwhile count as held: a message only
ever goes from the queue to a worker, so the queue is read first, then the database, then the
workers. Only when the database lists something that is not in the queue are the workers asked
(one broadcast, answered by each worker's main process within `ASK_SECONDS`).

On a broker whose queue cannot be read (Celery's in-memory transport, in `cpb run`), nothing can
be lost while the process runs; there the sweeper falls back to the lease
(CPB_CHUNK_LEASE_SECONDS), and `cpb run` re-sends everything still to do when it starts.
"""

import base64
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any, Final

from celery import Celery
from celery.signals import worker_ready
from celery.worker import state as worker_state
from celery.worker.control import inspect_command
from celery.worker.request import Request

from shared.batches.pipeline import recovery
from shared.batches.pipeline.messages import SWEEP, Message
from shared.core.db import SessionFactory
from worker.runtime import now

log = logging.getLogger(__name__)

HOLDINGS: Final = "cpb_holdings"
ASK_SECONDS: Final = 1.0
REPLY_POLL_SECONDS: Final = 0.1
# A message is published just after the transaction that asks for it commits.
GRACE: Final = timedelta(seconds=2)


def lost_messages(
    app: Celery, factory: SessionFactory, lease: timedelta, nothing_held: bool = False
) -> list[Message]:
    """The messages to send again, their chunks marked sent. `nothing_held`: no worker runs and
    the queue is empty (the embedded default starting), so whatever is still to do is lost."""
    queued = None if nothing_held else queued_messages(app)
    if nothing_held:
        sent_before, held = now(), set[Message]()
    elif queued is None:
        sent_before, held = now() - lease, set()
    else:
        sent_before, held = now() - GRACE, queued
    with factory.begin() as session:
        suspects = [m for m in recovery.waiting(session, sent_before) if m not in held]
    if suspects and queued is not None:
        held = held_by_workers(app)
        suspects = [m for m in suspects if m not in held]
    if not suspects:
        return []
    with factory.begin() as session:
        return recovery.resend(session, suspects, sent_before, now())


@worker_ready.connect
def sweep_on_start(sender: Any, **_: Any) -> None:
    """A worker that starts (a restart after a crash, a deploy) sweeps at once rather than
    at beat's next sweep: what its predecessor held is sent again within seconds."""
    sender.app.send_task(SWEEP, expires=60)


def queued_messages(app: Celery) -> set[Message] | None:
    """The plans and chunks in the broker's queue, or None where the queue cannot be read."""
    queue = app.conf.task_default_queue
    with app.connection_for_read() as connection:
        channel: Any = connection.default_channel
        client = getattr(channel, "client", None)
        if client is None or not hasattr(channel, "_q_for_pri"):
            return None  # not Redis
        names = [channel._q_for_pri(queue, priority) for priority in channel.priority_steps]
        return set(_messages(raw for name in names for raw in client.lrange(name, 0, -1)))


def held_by_workers(app: Celery) -> set[Message]:
    """The plans and chunks that the workers answering within ASK_SECONDS hold."""
    # A connection of its own, closed after: on Redis a pooled one would still be waiting for
    # replies after the broadcast is over, and take the next broadcast's (held work would then
    # look lost). Its reply wait is made short, as closing it waits for that wait to end.
    quick = {"polling_interval": REPLY_POLL_SECONDS}
    with app.connection_for_write(transport_options=quick) as connection:
        replies = app.control.broadcast(
            HOLDINGS, reply=True, timeout=ASK_SECONDS, connection=connection
        )
    return {
        Message(task, tuple(args))
        for reply in replies or []
        for held in reply.values()
        for task, args in held
    }


@inspect_command()  # type: ignore[untyped-decorator]
def cpb_holdings(state: Any, **_: Any) -> list[tuple[str, list[Any]]]:
    """Every task this worker has received and not yet acknowledged: running, waiting for a
    pool process, or waiting for its retry's countdown."""
    requests = set(worker_state.reserved_requests) | set(worker_state.active_requests)
    for waiting in state.consumer.timer.schedule.queue:
        args = getattr(waiting.entry, "args", None) or ()
        if args and isinstance(args[0], Request) and not getattr(waiting.entry, "canceled", False):
            requests.add(args[0])
    return [(request.name, list(request.args)) for request in requests]


def _messages(raws: Iterable[bytes]) -> Iterator[Message]:
    """Kombu's Redis envelope: the task's name in the headers, the body [args, kwargs, embed]
    as JSON, base64-encoded."""
    for raw in raws:
        try:
            envelope = json.loads(raw)
            body = envelope["body"]
            if envelope["properties"].get("body_encoding") == "base64":
                body = base64.b64decode(body)
            args = json.loads(body)[0]
            yield Message(envelope["headers"]["task"], tuple(args))
        except (ValueError, KeyError, TypeError, IndexError) as error:
            log.warning("sweep: a message in the queue could not be read: %r", error)
