"""The login session's settings from the environment: secure cookies, the idle limit and the
absolute limit, their defaults, and the values refused."""

from pathlib import Path

import pytest

from shared.core.errors import ConfigurationError
from shared.core.settings import Settings


def session_settings(env: dict[str, str]) -> tuple[bool, int, int]:
    settings = Settings.from_env(env)
    return settings.secure_cookies, settings.session_idle_minutes, settings.session_max_hours


def test_session_settings_from_the_environment(tmp_path: Path):
    base = {"SECRET_KEY": "k", "CPB_INSTANCE_PATH": str(tmp_path)}
    assert session_settings(base) == (False, 30, 12)
    chosen = {
        "CPB_SECURE_COOKIES": "true",
        "CPB_SESSION_IDLE_MINUTES": "5",
        "CPB_SESSION_MAX_HOURS": "2",
    }
    assert session_settings(base | chosen) == (True, 5, 2)
    assert session_settings(base | {"CPB_SECURE_COOKIES": "0"}) == (False, 30, 12)
    with pytest.raises(ConfigurationError, match="CPB_SECURE_COOKIES: 'sometimes' is neither"):
        Settings.from_env(base | {"CPB_SECURE_COOKIES": "sometimes"})
    with pytest.raises(ConfigurationError, match="CPB_SESSION_MAX_HOURS: must be positive, got 0"):
        Settings.from_env(base | {"CPB_SESSION_MAX_HOURS": "0"})
