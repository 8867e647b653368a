"""The Celery app and the settings that make delivery at-least-once safe (docs/reliability.md)."""

from typing import Any

from celery import Celery

from shared.batches.pipeline.messages import SWEEP
from shared.core.settings import Settings
from shared.schedules.tick import TICK
from worker.logs import connect_logging
from worker.metrics import serve as serve_metrics


def celery_config(settings: Settings) -> dict[str, Any]:
    return {
        "broker_url": settings.broker_url or "memory://localhost/",
        "broker_connection_retry_on_startup": True,
        # A message is acknowledged only after its task ran, and given back if the worker dies.
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_ignore_result": True,
        "task_time_limit": settings.task_time_limit_seconds,
        "task_soft_time_limit": soft_time_limit(settings.task_time_limit_seconds),
        # Redis re-delivers an unacknowledged message after this; it must outlast any task.
        "broker_transport_options": {"visibility_timeout": settings.visibility_timeout_seconds},
        "worker_max_memory_per_child": 512_000,  # KiB
        "task_default_queue": "cpb",
        "timezone": "UTC",
        # Celery's scheduler, which also records beat's heartbeat for the health report.
        "beat_scheduler": "worker.beat:HeartbeatScheduler",
        "beat_schedule": {
            "sweep": {
                "task": SWEEP,
                "schedule": settings.sweep_interval_seconds,
                # While no worker runs, sweeps would pile up; one not started in time is dropped.
                "options": {"expires": settings.sweep_interval_seconds},
            },
            # Beat only ticks; the database decides that each due run happens once.
            "schedules": {
                "task": TICK,
                "schedule": settings.schedule_tick_seconds,
                "options": {"expires": settings.schedule_tick_seconds},
            },
        },
        "cpb_settings": settings,
    }


def soft_time_limit(hard: int) -> int:
    """When a task is told to stop (SoftTimeLimitExceeded: it retries, then fails the batch)
    before it is killed: 30 s before the hard limit, or a tenth of it if that is shorter."""
    return max(1, hard - min(30, max(1, hard // 10)))


def create_celery(settings: Settings | None = None) -> Celery:
    """The app for `settings`, or, without them, one that reads the environment when first
    configured (so importing `worker` connects to nothing and reads nothing)."""
    app = Celery("cpb", include=["worker.tasks"], set_as_current=False)
    connect_logging(app)  # the worker's and beat's logs in the settings' format (worker/logs.py)
    if settings is not None:
        app.conf.update(celery_config(settings))
    else:

        def configure(sender: Celery, **_: Any) -> None:
            sender.conf.update(celery_config(Settings.from_env()))

        app.on_configure.connect(configure, weak=False)
        serve_metrics(app)  # `celery -A worker worker` serves its metrics; cpb run's app does not
    return app
