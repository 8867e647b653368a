"""Files that hold secrets (the instance's secret key, the demo login's password) are the
owner's alone from the moment they exist: created with that mode whatever the umask, and an
older file with a wider mode restricted before anything is written to it."""

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.core.settings import Settings, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    before = os.umask(0)
    yield
    os.umask(before)


def test_the_secret_key_file_is_the_owner_s_alone(tmp_path: Path, open_umask: object):
    created: list[int] = []
    real_open = os.open

    def watched(path: object, flags: int, mode_: int = 0o777) -> int:
        created.append(mode_)
        return real_open(path, flags, mode_)  # type: ignore[arg-type]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(os, "open", watched)
        settings = Settings.from_env({"CPB_INSTANCE_PATH": str(tmp_path)})
    assert created == [0o600]  # created with its mode, not restricted afterwards
    assert (mode(tmp_path / "secret_key"), len(settings.secret_key)) == (0o600, 64)
    assert Settings.from_env({"CPB_INSTANCE_PATH": str(tmp_path)}).secret_key == (
        settings.secret_key
    )


def test_an_older_file_is_restricted_before_it_is_written(tmp_path: Path, open_umask: object):
    path = tmp_path / "demo-login.txt"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, "new password\n")
    assert (mode(path), path.read_text()) == (0o600, "new password\n")
