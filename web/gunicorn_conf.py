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
- Each worker connects to PostgreSQL and the broker once before it takes requests, as the
  health report does (web/api/health.py, `warm_up`; without the half-second ping of the
  workers): that builds its Celery client, which would otherwise make its first real request
  (often a submission) a quarter of a second slower.
- /metrics sums what every worker process recorded (web/metrics.py) through files in
  PROMETHEUS_MULTIPROC_DIR: a fresh private directory unless the operator set one (which is
  emptied here, at start, of an earlier run's files). It is set when this file is read, in the
  master, before the workers start (the app is not preloaded) and make their metrics;
  prometheus_client, which the master has imported by then (with the `web` package), is told
  to keep values in files. The directory is removed at exit if it was made here, and a worker
  that exits is marked dead (`child_exit`).
- The access log is off (a poller makes one line per second); CPB_ACCESS_LOG=true sends it to
  stdout. Errors go to stderr, where docker collects them.
- Gunicorn's lines and the app's are written in CPB_LOG_FORMAT (json or plain,
  shared/core/logs.py); an access line carries the request's `requestId` and `user`
  (web/gunicorn_logging.py).
"""

import glob
import os
import shutil
import tempfile
from typing import Any, Final

from shared.core.logs import gunicorn_logconfig, log_format_of


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
logconfig_dict = gunicorn_logconfig(log_format_of(), access_log=accesslog is not None)
logger_class = "web.gunicorn_logging.RequestLogger"


def post_worker_init(worker: Any) -> None:
    from web.api.health import warm_up  # in the worker, whose app is loaded by now

    warm_up(worker.wsgi)


MULTIPROC_DIR: Final = "PROMETHEUS_MULTIPROC_DIR"
MADE_HERE: Final = "CPB_METRICS_DIR_MADE"  # the directory this file made (kept over a reload)


def _metrics_directory() -> str:
    given = os.environ.get(MULTIPROC_DIR, "").strip()
    if given and given == os.environ.get(MADE_HERE):
        return given
    if given:
        os.makedirs(given, exist_ok=True)
        for stale in glob.glob(os.path.join(given, "*.db")):
            os.remove(stale)
        return given
    made = tempfile.mkdtemp(prefix="cpb-web-metrics-")
    os.environ[MULTIPROC_DIR] = os.environ[MADE_HERE] = made
    return made


def _values_in_files() -> None:
    """prometheus_client picks where values live when it is imported, from the variable; the
    master has imported it already when it is run as `-c python:web.gunicorn_conf` (that
    imports the `web` package, and the app's modules with it)."""
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue()


_metrics_dir = _metrics_directory()
_values_in_files()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_dir)


def on_exit(server: Any) -> None:
    if os.environ.get(MADE_HERE) == _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
