"""The tasks: thin, named, ids in. Each calls one pipeline step in a transaction, and sends the
messages that step asks for only after it committed."""

import logging
import time
from datetime import timedelta

from celery import Task, shared_task

from shared.batches.pipeline import messages
from shared.batches.pipeline import steps as pipeline
from shared.schedules import tick as schedules
from shared.schedules.tick import TICK
from worker import metrics, recovery
from worker.runtime import now, send, session_factory, settings_of

log = logging.getLogger(__name__)

RETRIES = 3


@shared_task(name=messages.PLAN, bind=True, max_retries=RETRIES)
def plan(self: Task, batch_id: int) -> None:
    settings = settings_of(self.app)
    factory = session_factory(settings.database_url)
    started = time.monotonic()
    try:
        with factory.begin() as session:
            spent = pipeline.start_plan(session, batch_id, settings.task_attempts)
        if spent is not None:
            _fail(self, batch_id, spent)
            return
        with factory.begin() as session:
            messages = pipeline.plan(session, batch_id, settings.chunk_size, now())
    except Exception as exc:
        _retry_or_fail(self, batch_id, f"planning failed: {exc}", exc)
        raise
    seconds = time.monotonic() - started
    metrics.plan_finished(seconds)
    log.info("batch=%s planned ms=%d", batch_id, seconds * 1000)
    send(self.app, messages)


@shared_task(name=messages.APPLY_CHUNK, bind=True, max_retries=RETRIES)
def apply_chunk(self: Task, batch_id: int, chunk_no: int) -> None:
    settings = settings_of(self.app)
    factory = session_factory(settings.database_url)
    started = time.monotonic()
    try:
        with factory.begin() as session:
            spent = pipeline.start_chunk(session, batch_id, chunk_no, settings.task_attempts)
        if spent is not None:
            _fail(self, batch_id, spent)
            return
        with factory.begin() as session:
            ran = pipeline.run_chunk(session, batch_id, chunk_no, now())
        # A retry after this point finds the chunk done and only moves the pipeline on.
        with factory.begin() as session:
            messages = pipeline.after_chunk(session, batch_id, now())
    except Exception as exc:
        _retry_or_fail(self, batch_id, f"chunk {chunk_no} failed: {exc}", exc)
        raise
    seconds = time.monotonic() - started
    if ran is not None:
        metrics.chunk_finished(ran.kind, seconds, ran.changed)
    log.info(
        "batch=%s chunk=%s applied=%s ms=%d", batch_id, chunk_no, ran is not None, seconds * 1000
    )
    send(self.app, messages)


@shared_task(name=messages.SWEEP, bind=True)
def sweep(self: Task) -> None:
    """Finalize a batch whose chunks are all done, start the next one, and send again what was
    lost (worker/recovery.py)."""
    settings = settings_of(self.app)
    factory = session_factory(settings.database_url)
    with factory.begin() as session:
        moved, finalized = pipeline.move_on(session, now())
    lease = timedelta(seconds=settings.chunk_lease_seconds)
    lost = recovery.lost_messages(self.app, factory, lease)
    plans = sum(message.task == messages.PLAN for message in lost)
    metrics.sweep_finished(plans, len(lost) - plans, finalized)
    if moved or finalized or lost:
        log.info("sweep finalized=%d started=%d resent=%d", finalized, len(moved), len(lost))
    send(self.app, moved + lost)


@shared_task(name=TICK, bind=True)
def tick_schedules(self: Task) -> None:
    settings = settings_of(self.app)
    report = schedules.tick(session_factory(settings.database_url), now(), settings.zone)
    metrics.schedules_ticked(report.ran, report.failed, report.skipped, report.errors)
    if report.ran or report.failed or report.skipped or report.errors:
        log.info(
            "schedules ran=%d failed=%d skipped=%d errors=%d",
            report.ran,
            report.failed,
            report.skipped,
            report.errors,
        )
    send(self.app, report.messages)


def _retry_or_fail(task: Task, batch_id: int, error: str, exc: Exception) -> None:
    """Retry with backoff; once the retries are spent, record the failure on the batch row."""
    if task.request.retries < RETRIES:
        raise task.retry(exc=exc, countdown=2**task.request.retries)
    _fail(task, batch_id, error)


def _fail(task: Task, batch_id: int, error: str) -> None:
    log.error("batch=%s failed error=%r", batch_id, error)
    metrics.batch_failed()
    settings = settings_of(task.app)
    with session_factory(settings.database_url).begin() as session:
        messages = pipeline.fail(session, batch_id, error, now())
    send(task.app, messages)
