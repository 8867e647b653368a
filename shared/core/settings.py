"""Typed settings, read from the environment by `Settings.from_env()`, never at import."""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.core.errors import ConfigurationError

LOG_FORMATS: Final = ("json", "plain")
FLAGS: Final = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


@dataclass(frozen=True)
class Settings:
    database_url: str
    broker_url: str | None  # None: the embedded executor of `cpb run`
    secret_key: str
    timezone: str = "UTC"
    instance_path: Path = field(default_factory=lambda: Path("instance").resolve())
    chunk_size: int = 2000
    # Only where the broker's queue cannot be read (the in-memory transport of `cpb run`): how
    # long a plan or chunk waits for its message before the sweeper sends it again. On Redis
    # the sweeper asks the queue and the workers instead (docs/reliability.md).
    chunk_lease_seconds: int = 300
    # A plan or chunk started this many times without finishing (its worker killed or failing
    # each time) fails its batch.
    task_attempts: int = 5
    # How often beat sends the sweeper, which finds lost work within seconds.
    sweep_interval_seconds: float = 5.0
    # How often beat sends the schedules' tick (docs/schedules.md).
    schedule_tick_seconds: float = 30.0
    task_time_limit_seconds: int = 1800
    # Redis gives an unacknowledged message (its worker died) to another worker after this long.
    # It must outlast the longest task, or a chunk still running would be delivered again.
    visibility_timeout_seconds: int = 3600
    # Served over TLS (directly or behind a proxy): cookies only travel encrypted, and HSTS.
    secure_cookies: bool = False
    # A login session ends after this long without a request, and this long after signing in.
    session_idle_minutes: int = 30
    session_max_hours: int = 12
    # How many reverse proxies in front of the web app to trust for X-Forwarded-For/-Proto
    # (0: none; the client's address is the connection's).
    proxy_hops: int = 0
    # The largest upload an import takes, in bytes (a zip; what it unpacks to is limited too).
    import_max_bytes: int = 256 * 2**20
    # How the processes write their logs: one JSON object per line, or plain text.
    log_format: str = "json"
    # GET /metrics answers without credentials (for a Prometheus that sends none); else a
    # district admin's token or session is needed, as everywhere else.
    metrics_open: bool = False
    # Where a Celery worker serves its own metrics (host:port), or None: not at all.
    worker_metrics_address: str | None = "127.0.0.1:9540"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        instance = Path(env.get("CPB_INSTANCE_PATH", "instance")).resolve()
        database_url = env.get("DATABASE_URL") or f"sqlite:///{instance / 'cpb.sqlite3'}"
        timezone = env.get("CPB_TIMEZONE", "UTC")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigurationError(f"CPB_TIMEZONE: unknown time zone {timezone!r}") from exc
        time_limit = _positive_int(env, "CPB_TASK_TIME_LIMIT", 1800)
        visibility_timeout = _positive_int(env, "CPB_VISIBILITY_TIMEOUT", 2 * time_limit)
        if visibility_timeout <= time_limit:
            raise ConfigurationError(
                f"CPB_VISIBILITY_TIMEOUT: must be longer than CPB_TASK_TIME_LIMIT ({time_limit}),"
                f" got {visibility_timeout}"
            )
        return cls(
            database_url=database_url,
            broker_url=env.get("CELERY_BROKER_URL") or None,
            secret_key=env.get("SECRET_KEY") or _instance_secret(instance),
            timezone=timezone,
            instance_path=instance,
            chunk_size=_positive_int(env, "CPB_CHUNK_SIZE", 2000),
            chunk_lease_seconds=_positive_int(env, "CPB_CHUNK_LEASE_SECONDS", 300),
            task_attempts=_positive_int(env, "CPB_TASK_ATTEMPTS", 5),
            sweep_interval_seconds=float(_positive_int(env, "CPB_SWEEP_SECONDS", 5)),
            schedule_tick_seconds=float(_positive_int(env, "CPB_SCHEDULE_TICK_SECONDS", 30)),
            task_time_limit_seconds=time_limit,
            visibility_timeout_seconds=visibility_timeout,
            secure_cookies=_flag(env, "CPB_SECURE_COOKIES", False),
            session_idle_minutes=_positive_int(env, "CPB_SESSION_IDLE_MINUTES", 30),
            session_max_hours=_positive_int(env, "CPB_SESSION_MAX_HOURS", 12),
            proxy_hops=_whole_number(env, "CPB_PROXY_HOPS", 0),
            import_max_bytes=_positive_int(env, "CPB_IMPORT_MAX_BYTES", 256 * 2**20),
            log_format=_choice(env, "CPB_LOG_FORMAT", LOG_FORMATS),
            metrics_open=_flag(env, "CPB_METRICS_OPEN", False),
            worker_metrics_address=_address(env, "CPB_WORKER_METRICS", "127.0.0.1:9540"),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigurationError(f"{name}: {raw!r} is not a whole number of 0 or more")
    return int(raw)


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name}: {raw!r} is not a whole number") from exc
    if value <= 0:
        raise ConfigurationError(f"{name}: must be positive, got {value}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...]) -> str:
    """One of `choices` (the first is the default), whatever its case."""
    raw = (env.get(name) or choices[0]).strip().lower()
    if raw not in choices:
        raise ConfigurationError(f"{name}: {raw!r} is not one of {', '.join(choices)}")
    return raw


def _address(env: Mapping[str, str], name: str, default: str) -> str | None:
    """host:port, or None for "off"."""
    raw = (env.get(name) or default).strip()
    if raw.lower() == "off":
        return None
    host, _, port = raw.rpartition(":")
    if not host or not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ConfigurationError(f"{name}: {raw!r} is not host:port (or off)")
    return raw


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    value = FLAGS.get(raw.strip().lower())
    if value is None:
        raise ConfigurationError(f"{name}: {raw!r} is neither true nor false")
    return value


def _instance_secret(instance: Path) -> str:
    """A secret kept in the instance folder: sessions survive a restart of the embedded default."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    write_private(path, key)
    return key


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path`, readable by its owner only from the moment the file exists (not
    written first and restricted after); a file that was there is restricted before it is
    written."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(descriptor, 0o600)
        os.write(descriptor, text.encode())
    finally:
        os.close(descriptor)
