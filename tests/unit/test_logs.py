"""The log lines and their context (shared/core/logs.py), the request ids of the web
(web/request_log.py) and a task's context (worker/logs.py), without services. Nothing here
configures this process's root logger; what a configuration does is checked in a child
process."""

import io
import json
import logging
import re
import subprocess
import sys
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask

from shared.core.logs import (
    ContextFilter,
    bind,
    bound,
    formatter,
    handler,
    log_context,
    log_format_of,
    unbind,
)
from web.request_log import HEADER, bind_user, register_request_log, request_id_of
from worker.logs import bind_task, unbind_task

MOMENT = datetime(2026, 3, 1, 14, 5, 9, 42000, tzinfo=UTC)


def record(message: str = "batch=7 done", **extra: object) -> logging.LogRecord:
    """A record of cpb.test at 2026-03-01T14:05:09.042Z from pid 4242, as a handler with the
    context filter sees it."""
    made = logging.LogRecord("cpb.test", logging.WARNING, __file__, 1, message, (), None)
    made.created, made.process = MOMENT.timestamp(), 4242
    made.__dict__.update(extra)
    ContextFilter().filter(made)
    return made


def failed() -> Any:
    try:
        raise ZeroDivisionError("division by zero")
    except ZeroDivisionError:
        return sys.exc_info()


def context_of(line: dict[str, Any]) -> dict[str, Any]:
    return {
        key: line[key] for key in ("batch", "chunk", "schedule", "user", "requestId") if key in line
    }


def test_a_json_line_has_the_fixed_keys_then_the_context():
    with bound(batch=7, chunk=2):
        line = formatter("json").format(record())

    assert line == (
        '{"time": "2026-03-01T14:05:09.042Z", "level": "WARNING", "logger": "cpb.test", '
        '"message": "batch=7 done", "process": 4242, "batch": 7, "chunk": 2}'
    )


def test_keys_not_bound_are_left_out_and_extras_follow_the_context():
    with bound(user="ada", requestId="abc"):
        line = json.loads(formatter("json").format(record("sent", task="batches.plan")))

    assert line == {
        "time": "2026-03-01T14:05:09.042Z",
        "level": "WARNING",
        "logger": "cpb.test",
        "message": "sent",
        "process": 4242,
        "user": "ada",
        "requestId": "abc",
        "task": "batches.plan",
    }
    assert list(line)[-3:] == ["user", "requestId", "task"]


def test_an_exception_is_its_traceback_text():
    exc_info = failed()
    with bound(schedule=3):
        made = record("tick failed")
        made.exc_info = exc_info
        line = json.loads(formatter("json").format(made))

    assert list(line) == ["time", "level", "logger", "message", "process", "schedule", "exception"]
    assert line["exception"].startswith("Traceback (most recent call last):\n")
    assert line["exception"].endswith("\nZeroDivisionError: division by zero")


def test_a_plain_line_ends_in_the_context_and_a_traceback_follows_it():
    made = record("tick failed")
    made.exc_info = failed()
    with bound(schedule=3, user="ada"):
        plain = formatter("plain").format(record())
    lines = formatter("plain").format(made).splitlines()

    assert (
        plain == "2026-03-01T14:05:09.042Z WARNING cpb.test [4242] batch=7 done schedule=3 user=ada"
    )
    assert lines[0] == "2026-03-01T14:05:09.042Z WARNING cpb.test [4242] tick failed"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ZeroDivisionError: division by zero"


def test_a_records_own_field_wins_over_the_context():
    with bound(batch=7):
        line = json.loads(formatter("json").format(record(batch=9)))

    assert line["batch"] == 9


def test_context_binds_nest_and_unbind_in_turn():
    assert log_context() == {}
    with bound(batch=7):
        outer = bind(chunk=2, user=None)
        assert log_context() == {"batch": 7, "chunk": 2}
        with bound(chunk=3, schedule=1):
            assert log_context() == {"batch": 7, "chunk": 3, "schedule": 1}
        assert log_context() == {"batch": 7, "chunk": 2}
        unbind(outer)
        assert log_context() == {"batch": 7}
    assert log_context() == {}


def test_only_the_context_keys_bind():
    with pytest.raises(ValueError, match="not a log context key: batchId"):
        bind(batchId=7)
    assert log_context() == {}


def test_the_formats_and_the_setting():
    with pytest.raises(ValueError, match="log format 'xml' is not one of json, plain"):
        formatter("xml")
    assert [log_format_of(env) for env in ({}, {"CPB_LOG_FORMAT": " Plain "})] == ["json", "plain"]
    # Settings.from_env refuses it, with its own message; lines before that are JSON.
    assert log_format_of({"CPB_LOG_FORMAT": "xml"}) == "json"


def without_time_and_pid(line: str) -> str:
    return re.sub(r"^\S+Z (\S+) (\S+) \[\d+\] ", r"\1 \2 ", line)


def test_a_handler_writes_to_stderr_as_it_is_when_it_writes(monkeypatch: pytest.MonkeyPatch):
    logger = logging.Logger("cpb.test")  # no parent: nothing reaches the root
    logger.addHandler(handler("plain"))
    swapped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", swapped)
    with bound(batch=7):
        logger.warning("hello")

    assert without_time_and_pid(swapped.getvalue()) == "WARNING cpb.test hello batch=7\n"


SCRIPT = """
import logging, logging.config, sys
from shared.core.logs import bound, gunicorn_logconfig
logging.config.dictConfig(gunicorn_logconfig(sys.argv[1], access_log=sys.argv[2] == "on"))
logging.getLogger("gunicorn.error").info("booted")
with bound(requestId="abc", user="ada"):
    logging.getLogger("web.submission").info("enqueue=ok")
    logging.getLogger("gunicorn.access").info("GET /")
"""


def gunicorn_logs(log_format: str, access: str) -> tuple[list[str], list[str]]:
    """(stderr, stdout) lines of a child process configured by gunicorn's logconfig_dict."""
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, log_format, access],
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stderr.splitlines(), done.stdout.splitlines()


def test_gunicorns_lines_and_the_apps_share_the_format():
    json_err, json_out = gunicorn_logs("json", "on")
    plain_err, plain_out = gunicorn_logs("plain", "on")

    fields = [
        (line["logger"], line["message"], context_of(line)) for line in map(json.loads, json_err)
    ]
    assert fields == [
        ("gunicorn.error", "booted", {}),
        ("web.submission", "enqueue=ok", {"user": "ada", "requestId": "abc"}),
    ]
    access = json.loads(json_out[0])
    assert (len(json_out), access["message"], context_of(access)) == (
        1,
        "GET /",
        {"user": "ada", "requestId": "abc"},
    )
    assert [without_time_and_pid(line) for line in plain_err + plain_out] == [
        "INFO gunicorn.error booted",
        "INFO web.submission enqueue=ok user=ada requestId=abc",
        "INFO gunicorn.access GET / user=ada requestId=abc",
    ]
    assert gunicorn_logs("json", "off")[1] == []


def test_a_sensible_request_id_is_kept_and_any_other_replaced():
    kept = ["abc", "x" * 64, "0f8e-AA_~!{}"]
    replaced = [None, "", "a b", "x" * 65, "caf\xe9", "a\tb", "a\x7f"]

    assert [request_id_of(given) for given in kept] == kept
    fresh = [request_id_of(given) for given in replaced]
    assert all(re.fullmatch(r"[0-9a-f]{32}", id) for id in fresh) and len(set(fresh)) == len(fresh)


def test_a_request_binds_its_id_and_user_until_it_ends():
    app = Flask(__name__)
    register_request_log(app)

    @app.get("/")
    def seen() -> dict[str, Any]:
        bind_user("ada")
        return log_context()

    client = app.test_client()
    given = client.get("/", headers={HEADER: "abc"})
    fresh = client.get("/", headers={HEADER: "a b"})

    assert (given.get_json(), given.headers[HEADER]) == ({"requestId": "abc", "user": "ada"}, "abc")
    assert fresh.get_json() == {"requestId": fresh.headers[HEADER], "user": "ada"}
    assert log_context() == {}


def test_a_task_binds_its_batch_and_chunk_while_it_runs():
    chunk, tick = (
        SimpleNamespace(name="batches.apply_chunk"),
        SimpleNamespace(name="schedules.tick"),
    )

    bind_task(task_id="t1", task=chunk, args=[7, 2])
    assert log_context() == {"batch": 7, "chunk": 2}
    bind_task(task_id="t2", task=tick, args=[])
    assert log_context() == {"batch": 7, "chunk": 2}
    unbind_task(task_id="t2")
    unbind_task(task_id="t1")
    assert log_context() == {}
    unbind_task(task_id="t1")  # twice: nothing
