"""The settings that bound how long a lost or stuck task takes to recover, and the Celery
configuration they make."""

from pathlib import Path

import pytest

from shared.core.errors import ConfigurationError
from shared.core.settings import Settings
from worker.celery_app import celery_config


def recovery(env: dict[str, str]) -> tuple[int, int, float, int, int]:
    settings = Settings.from_env(env)
    return (
        settings.task_attempts,
        settings.chunk_lease_seconds,
        settings.sweep_interval_seconds,
        settings.task_time_limit_seconds,
        settings.visibility_timeout_seconds,
    )


def test_recovery_settings_from_the_environment(tmp_path: Path):
    base = {"SECRET_KEY": "k", "CPB_INSTANCE_PATH": str(tmp_path)}
    assert recovery(base) == (5, 300, 5.0, 1800, 3600)
    assert recovery(base | {"CPB_TASK_TIME_LIMIT": "100"}) == (5, 300, 5.0, 100, 200)
    chosen = {
        "CPB_TASK_ATTEMPTS": "3",
        "CPB_CHUNK_LEASE_SECONDS": "2",
        "CPB_SWEEP_SECONDS": "1",
        "CPB_TASK_TIME_LIMIT": "20",
        "CPB_VISIBILITY_TIMEOUT": "21",
    }
    assert recovery(base | chosen) == (3, 2, 1.0, 20, 21)
    with pytest.raises(
        ConfigurationError,
        match=r"CPB_VISIBILITY_TIMEOUT: must be longer than CPB_TASK_TIME_LIMIT \(20\), got 20",
    ):
        Settings.from_env(base | chosen | {"CPB_VISIBILITY_TIMEOUT": "20"})
    with pytest.raises(ConfigurationError, match="CPB_VISIBILITY_TIMEOUT: 'soon' is not a whole"):
        Settings.from_env(base | {"CPB_VISIBILITY_TIMEOUT": "soon"})
    with pytest.raises(ConfigurationError, match="CPB_TASK_ATTEMPTS: must be positive, got 0"):
        Settings.from_env(base | {"CPB_TASK_ATTEMPTS": "0"})


@pytest.mark.parametrize(("hard", "soft"), [(1800, 1770), (300, 270), (100, 90), (20, 18), (5, 4)])
def test_the_celery_configuration_follows_the_settings(hard: int, soft: int):
    settings = Settings(
        database_url="sqlite://",
        broker_url="redis://127.0.0.1:6379/1",
        secret_key="k",
        sweep_interval_seconds=7.0,
        schedule_tick_seconds=5.0,
        task_time_limit_seconds=hard,
        visibility_timeout_seconds=hard + 1,
    )
    config = celery_config(settings)
    assert (config["task_time_limit"], config["task_soft_time_limit"]) == (hard, soft)
    assert config["broker_transport_options"] == {"visibility_timeout": hard + 1}
    assert config["beat_schedule"]["sweep"] == {
        "task": "batches.sweep",
        "schedule": 7.0,
        "options": {"expires": 7.0},
    }
    assert config["beat_schedule"]["schedules"] == {
        "task": "schedules.tick",
        "schedule": 5.0,
        "options": {"expires": 5.0},
    }
    assert (config["task_acks_late"], config["task_reject_on_worker_lost"]) == (True, True)
