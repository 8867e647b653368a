"""Logs a machine can read: one JSON object per line on stderr (CPB_LOG_FORMAT=json, the
default), or one line of plain text (CPB_LOG_FORMAT=plain).

Every line carries the context bound where it was logged: `batch` and `chunk` in a task of a
batch, `schedule` while the tick handles one schedule, `requestId` and `user` in a web request.
A key that is not bound is left out. JSON lines hold `time` (RFC 3339, UTC, milliseconds),
`level`, `logger`, `message`, `process` (the pid), the context, any `extra` fields, and
`exception` (the traceback) when there is one; plain lines append the context as `key=value`.

Who configures: `cpb` (cli/main.py), gunicorn (web/gunicorn_conf.py, through
`gunicorn_logconfig`) and the Celery worker and beat (worker/logs.py).
"""

import logging
import os
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from shared.core.settings import LOG_FORMATS

CONTEXT_KEYS: Final = ("batch", "chunk", "schedule", "user", "requestId")
FIXED_KEYS: Final = ("time", "level", "logger", "message", "process")
PLAIN_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"

Context = Mapping[str, object]
NOTHING_BOUND: Final[Context] = MappingProxyType({})
_context: ContextVar[Context] = ContextVar("cpb_log_context", default=NOTHING_BOUND)


def log_context() -> dict[str, object]:
    """What is bound here now (a copy)."""
    return dict(_context.get())


def bind(**fields: object) -> Token[Context]:
    """Binds `fields` (CONTEXT_KEYS; a None value is left out) over what is bound, until
    `unbind` of the token this returns."""
    unknown = sorted(set(fields) - set(CONTEXT_KEYS))
    if unknown:
        raise ValueError(f"not a log context key: {', '.join(unknown)}")
    given = {key: value for key, value in fields.items() if value is not None}
    return _context.set({**_context.get(), **given})


def unbind(token: Token[Context]) -> None:
    """Back to what was bound before the `bind` of `token` (and whatever was bound after it)."""
    _context.reset(token)


@contextmanager
def bound(**fields: object) -> Iterator[None]:
    """`fields` bound for the block: `with bound(batch=7, chunk=2): ...`."""
    token = bind(**fields)
    try:
        yield
    finally:
        unbind(token)


class ContextFilter(logging.Filter):
    """Adds the bound context to each record as attributes (a record's own `extra` wins)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in _context.get().items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


def rfc3339(created: float) -> str:
    """`2026-03-01T14:05:09.042Z`."""
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(_JsonFormatter):
    """python-json-logger's formatter with the keys and their order of this module's doc."""

    # Attributes of a record that are not `extra` fields (the context has keys of its own).
    NOT_EXTRA: Final = frozenset(RESERVED_ATTRS) | {"taskName", *CONTEXT_KEYS, *FIXED_KEYS}

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["time"] = rfc3339(record.created)
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data["process"] = record.process
        for key in CONTEXT_KEYS:
            if key in record.__dict__:
                log_data[key] = record.__dict__[key]
        extra = {**record.__dict__, **message_dict}
        for key, value in extra.items():
            if key not in self.NOT_EXTRA and not key.startswith("_"):
                log_data[key] = value
        if message_dict.get("exc_info"):
            log_data["exception"] = message_dict["exc_info"]
        if message_dict.get("stack_info"):
            log_data["stack"] = message_dict["stack_info"]


class PlainFormatter(logging.Formatter):
    """`<time> <LEVEL> <logger> [<pid>] <message> key=value ...`, a traceback on the lines
    after it."""

    def __init__(self) -> None:
        super().__init__(PLAIN_FORMAT)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return rfc3339(record.created)

    def formatMessage(self, record: logging.LogRecord) -> str:
        context = "".join(
            f" {key}={record.__dict__[key]}" for key in CONTEXT_KEYS if key in record.__dict__
        )
        return super().formatMessage(record) + context


def formatter(log_format: str) -> logging.Formatter:
    if log_format == "json":
        return JsonFormatter()
    if log_format == "plain":
        return PlainFormatter()
    raise ValueError(f"log format {log_format!r} is not one of {', '.join(LOG_FORMATS)}")


class StandardStream(logging.StreamHandler):
    """Writes to sys.stderr (or sys.stdout) as it is when a line is written, not as it was when
    the handler was made (a test or a command may swap it)."""

    def __init__(self, name: str = "stderr") -> None:
        if name not in ("stderr", "stdout"):
            raise ValueError(f"not a standard stream: {name!r}")
        self.stream_name = name
        super().__init__()

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        stream: TextIO = getattr(sys, self.stream_name)
        return stream

    @stream.setter
    def stream(self, _: object) -> None:
        pass  # always the current one


def handler(log_format: str, stream: str = "stderr") -> logging.Handler:
    """A handler writing `log_format` lines, the context added, to a standard stream."""
    made = StandardStream(stream)
    made.setFormatter(formatter(log_format))
    made.addFilter(ContextFilter())
    return made


def configure_logging(log_format: str, level: int | str = logging.INFO) -> None:
    """The root logger writes `log_format` lines to stderr from `level` up, and nowhere else;
    Python's warnings are logged too (logger `py.warnings`), rather than printed."""
    made = handler(log_format)  # first: an unknown format changes nothing
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(made)
    root.setLevel(level)
    logging.captureWarnings(True)


def log_format_of(env: Mapping[str, str] | None = None) -> str:
    """CPB_LOG_FORMAT as Settings reads it, for a process that logs before its settings are
    read; a value Settings refuses gives json here (the settings then report it)."""
    env = os.environ if env is None else env
    raw = (env.get("CPB_LOG_FORMAT") or LOG_FORMATS[0]).strip().lower()
    return raw if raw in LOG_FORMATS else LOG_FORMATS[0]


def gunicorn_logconfig(log_format: str, *, access_log: bool) -> dict[str, Any]:
    """Gunicorn's `logconfig_dict` (it replaces the keys of gunicorn's own defaults): the app's
    lines and gunicorn's error log on stderr, its access log (when `access_log`) on stdout,
    where gunicorn writes it, all in `log_format`."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {},
        "handlers": {
            "stderr": {"()": handler, "log_format": log_format},
            "stdout": {"()": handler, "log_format": log_format, "stream": "stdout"},
        },
        "root": {"level": "INFO", "handlers": ["stderr"]},
        "loggers": {
            # Its level stays gunicorn's `loglevel`; its lines go to the root's handler.
            "gunicorn.error": {"handlers": [], "propagate": True},
            "gunicorn.access": {
                "level": "INFO",
                "handlers": ["stdout"] if access_log else [],
                "propagate": False,
            },
        },
    }
