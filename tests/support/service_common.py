"""What the PostgreSQL and the Redis of the tests share: the error that says no server can be had,
the switch that skips the default servers, free ports, and how long a throwaway server may take
to start."""

import os
import socket

START_TIMEOUT = 60.0


class Unavailable(Exception):
    """No server of this kind can be had here; the message says why."""


def force_throwaway() -> bool:
    return os.environ.get("CPB_TEST_FORCE_THROWAWAY", "") not in ("", "0", "false")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
