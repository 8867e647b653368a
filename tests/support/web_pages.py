"""What the tests of the wizard and the batch pages share: the app after web_district's admin and
district (the `app` fixture), the reasons' labels, and a batch's changes with some cells set."""

import pytest
from flask import Flask

from shared.core.vocabulary import CHANNELS, REASONS

REASON_LABELS = [
    "Emergency",
    "Attendance",
    "Behavior Messenger",
    "Staff",
    "General",
    "Food Service",
    "Priority",
    "Teacher",
]
NO_CHANGE = {channel: dict.fromkeys(REASONS, "noChange") for channel in CHANNELS}


@pytest.fixture
def app(web_district: dict[str, int], app: Flask) -> Flask:
    """The shared app, after web_district's admin and district."""
    return app


def changes_with(**cells: str) -> dict[str, dict[str, str]]:
    """NO_CHANGE with some cells set, e.g. changes_with(email__emergency="on")."""
    changes = {channel: dict(row) for channel, row in NO_CHANGE.items()}
    for key, option in cells.items():
        channel, reason = key.split("__")
        changes[channel][reason] = option
    return changes
