"""Gunicorn settings for the web app in production: `gunicorn -c python:web.gunicorn_conf
"web:create_app()"`.

- `bind` comes from CPB_BIND (default 0.0.0.0:8000, the port docker-compose publishes).
- `workers` from WEB_CONCURRENCY (default 2 x cores + 1, gunicorn's own rule of thumb): a
  request mostly waits on PostgreSQL, so a few more processes than cores keep the CPUs busy.
  The cores are those this process may run on (a container's cpuset), not the host's; a CPU
  quota (`docker run --cpus`) is not seen, so set WEB_CONCURRENCY there.
- `gthread` with CPB_WEB_THREADS threads per worker (default 4): the batch page and API clients
  poll a batch every second or so; with sync workers each poll holds a whole process, and a
  few dozen pollers queue behind each other. Four threads stay within SQLAlchemy's pool of 5
  connections per process, so the web app needs about 5 x workers PostgreSQL connections.
- `keepalive` 5 s: a poller reuses its connection between polls instead of reconnecting.
- `timeout` 60 s: with gthread this is the worker's heartbeat, not a per-request limit, so a
  long streamed CSV export is not killed; a worker stuck that long is restarted.
- `graceful_timeout` 30 s: on SIGTERM, requests in flight (a submission) get to finish.
- Each worker answers GET /api/v1/health once before it takes requests: that connects it to
  PostgreSQL and builds its Celery client, which would otherwise make its first real request
  (often a submission) a quarter of a second slower.
- The access log is off (a poller makes one line per second); CPB_ACCESS_LOG=true sends it to
  stdout. Errors go to stderr, where docker collects them.
"""

import os
from typing import Any


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


def _count(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"web/gunicorn_conf.py: {name} must be a whole number >= 1, got {raw!r}")
    return int(raw)


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


bind = [os.environ.get("CPB_BIND", "").strip() or "0.0.0.0:8000"]
workers = _count("WEB_CONCURRENCY", 2 * _cores() + 1)
worker_class = "gthread"
threads = _count("CPB_WEB_THREADS", 4)
keepalive = 5
timeout = 60
graceful_timeout = 30
# The heartbeat file on a RAM disk: on an overlay filesystem (docker) its writes can block.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
accesslog = "-" if _flag("CPB_ACCESS_LOG") else None
errorlog = "-"
loglevel = "info"


def post_worker_init(worker: Any) -> None:
    worker.wsgi.test_client().get("/api/v1/health")
