"""Typed settings, read from the environment by `Settings.from_env()`, never at import."""

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.errors import ConfigurationError


@dataclass(frozen=True)
class Settings:
    database_url: str
    broker_url: str | None  # None: the embedded executor of `cpb run`
    secret_key: str
    timezone: str = "UTC"
    instance_path: Path = field(default_factory=lambda: Path("instance").resolve())
    chunk_size: int = 2000
    chunk_lease_seconds: int = 300
    sweep_interval_seconds: float = 60.0
    task_time_limit_seconds: int = 1800

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
        return cls(
            database_url=database_url,
            broker_url=env.get("CELERY_BROKER_URL") or None,
            secret_key=env.get("SECRET_KEY") or _instance_secret(instance),
            timezone=timezone,
            instance_path=instance,
            chunk_size=_positive_int(env, "CPB_CHUNK_SIZE", 2000),
            chunk_lease_seconds=_positive_int(env, "CPB_CHUNK_LEASE_SECONDS", 300),
            sweep_interval_seconds=float(_positive_int(env, "CPB_SWEEP_SECONDS", 60)),
            task_time_limit_seconds=_positive_int(env, "CPB_TASK_TIME_LIMIT", 1800),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


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


def _instance_secret(instance: Path) -> str:
    """A secret kept in the instance folder: sessions survive a restart of the embedded default."""
    path = instance / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
