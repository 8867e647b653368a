"""Logs a machine can read, from the real processes (shared/core/logs.py): gunicorn and a
`celery worker` write one JSON object per line (but Celery's banner on stdout), a request's
lines carry its id and user, a task's its batch and chunk; with CPB_LOG_FORMAT=plain they write
plain lines that end in `key=value`."""

import ast
import json
import re
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from shared.access.tokens import create_token
from shared.core.db import SessionFactory
from shared.core.settings import Settings
from tests.support.processes import background_process, celery_worker, log_text, wait_until
from tests.support.services import free_port
from tests.support.stack import CHANGES, FINAL
from web import create_app

pytestmark = pytest.mark.postgres

BODY = {
    "mode": "studentContact",
    "scope": {"schoolYear": "2025-26", "schoolId": "S1"},
    "asOf": "2025-10-15",
    "changes": CHANGES,
}
# The context of the lines the tasks log: the plan of batch 1, then its four chunks (four
# targets, chunks of one).
CONTEXTS = [{"batch": 1}] + [{"batch": 1, "chunk": chunk} for chunk in range(4)]
CONTEXT_KEYS = ("batch", "chunk", "schedule", "user", "requestId")
MOMENT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ACCESS = re.compile(r'127\.0\.0\.1 - - \[.+\] "POST /api/v1/batches HTTP/1\.1" 202 \d+ "-" ".+"')
# What a Celery worker prints to stdout as it starts, among its log lines: its banner.
BANNER = re.compile(r"^ *\n -------------- celery@.*?^\[tasks\]\n(?:  \. .*\n)+\n", re.M | re.S)
PLAIN_LINE = re.compile(r"(\S+) (INFO|WARNING|ERROR) (\S+) \[\d+\] (.*)")
PLAIN_CONTEXT = re.compile(r" batch=(\d+)(?: chunk=(\d+))?$")


@contextmanager
def gunicorn(env: dict[str, str]) -> Iterator[tuple[str, Any]]:
    """The app served by gunicorn as production runs it, in one worker, its access log on;
    yields the API's URL and the process."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf"]
    command.append("web:create_app()")
    served = env | {"CPB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"}
    served |= {"CPB_ACCESS_LOG": "true"}
    with background_process("gunicorn", command, served, ready=r"Booting worker") as process:
        yield f"http://127.0.0.1:{port}/api/v1", process


def call(url: str, headers: dict[str, str], body: Any = None) -> tuple[Any, str]:
    """The JSON answer and its X-Request-ID."""
    data = json.dumps(body).encode() if body is not None else None
    headers = headers | {"Content-Type": "application/json"}
    with urllib.request.urlopen(urllib.request.Request(url, data, headers), timeout=30) as answer:
        return json.load(answer), answer.headers["X-Request-ID"]


def without_banner(text: str) -> str:
    banner = BANNER.search(text)
    assert banner is not None, text
    return text[: banner.start()] + text[banner.end() :]


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of `text` as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in text.splitlines()]


def context_of(line: dict[str, Any]) -> dict[str, Any]:
    return {key: line[key] for key in CONTEXT_KEYS if key in line}


def by_chunk(context: dict[str, Any]) -> int:
    chunk: int = context.get("chunk", -1)
    return chunk


def ada_token(factory: SessionFactory) -> str:
    with factory.begin() as session:
        return create_token(session, "ada")


def test_json_lines_carry_the_request_and_the_batch(
    stack_env: dict[str, str], pg_session_factory: SessionFactory
):
    signed_in = {"Authorization": f"Bearer {ada_token(pg_session_factory)}"}
    with celery_worker(stack_env, concurrency=1) as worker, gunicorn(stack_env) as (api, web):
        submitted, echoed = call(f"{api}/batches", signed_in | {"X-Request-ID": "abc"}, BODY)

        def final() -> Any:
            view = call(f"{api}/batches/{submitted['id']}", signed_in)[0]
            return view["status"] in FINAL and view

        assert wait_until(final, timeout=60)["status"] == "succeeded"
        fresh = [call(f"{api}/health", {"X-Request-ID": bad})[1] for bad in ("a b", "x" * 65)]
        wait_until(lambda: log_text(web).count("GET /api/v1/health") == 2)
        web_log, worker_log = (
            json_lines(log_text(web)),
            json_lines(without_banner(log_text(worker))),
        )
    assert (submitted["id"], echoed) == (1, "abc")
    assert all(re.fullmatch(r"[0-9a-f]{32}", id) for id in fresh) and fresh[0] != fresh[1]
    for line in web_log + worker_log:
        assert MOMENT.fullmatch(line.pop("time")), line
        assert list(line)[:4] == ["level", "logger", "message", "process"], line

    booted = [line for line in web_log if line["message"].startswith("Booting worker with pid")]
    pid = int(booted[0]["message"].rpartition(" ")[2])
    of_abc = [dict(line) for line in web_log if line.get("requestId") == "abc"]
    submission, access = (line.pop("message") for line in of_abc)
    assert submission == "enqueue=ok task=batches.plan args=(1,)"
    assert ACCESS.fullmatch(access), access
    assert of_abc == [
        {"level": "INFO", "logger": logger, "process": pid, "user": "ada", "requestId": "abc"}
        for logger in ("web.submission", "gunicorn.access")
    ]
    health = [line for line in web_log if "GET /api/v1/health" in line["message"]]
    assert [context_of(line) for line in health] == [{"requestId": id} for id in fresh]

    tasks = [line for line in worker_log if line["logger"] == "worker.tasks"]
    assert sorted(map(context_of, tasks), key=by_chunk) == CONTEXTS
    # Celery's own line of each task, once it ran, carries the task's context too.
    done = [line for line in worker_log if " succeeded in " in line["message"]]
    for line in done:
        args = ast.literal_eval(line["data"]["args"])
        assert context_of(line) == dict(zip(("batch", "chunk"), args, strict=False)), line
    assert sorted((context_of(line) for line in done if "batch" in line), key=by_chunk) == CONTEXTS
    ready = [line for line in worker_log if line["message"].endswith(" ready.")]
    assert [line["logger"] for line in ready] == ["celery.apps.worker"]


def test_plain_lines_end_in_the_batch_and_chunk(
    stack_env: dict[str, str], pg_session_factory: SessionFactory
):
    env = stack_env | {"CPB_LOG_FORMAT": "plain"}
    client = create_app(Settings.from_env(env), session_factory=pg_session_factory).test_client()
    signed_in = {"Authorization": f"Bearer {ada_token(pg_session_factory)}", "X-Request-ID": "r-1"}
    with celery_worker(env, concurrency=1) as worker:
        submitted = client.post("/api/v1/batches", json=BODY, headers=signed_in)

        def final() -> Any:
            view = client.get("/api/v1/batches/1", headers=signed_in).get_json()
            return view["status"] in FINAL and view

        assert wait_until(final, timeout=60)["status"] == "succeeded"
        text = without_banner(log_text(worker))
    assert (submitted.status_code, submitted.headers["X-Request-ID"]) == (202, "r-1")
    # An entry is a line, but for a message or traceback of several lines (a warning, as root).
    entries = re.split(r"\n(?=\d{4}-)", text.rstrip("\n"))
    lines = [PLAIN_LINE.fullmatch(entry.partition("\n")[0]) for entry in entries]
    assert all(line is not None and MOMENT.fullmatch(line[1]) for line in lines), text
    tasks = [line[4] for line in lines if line is not None and line[3] == "worker.tasks"]
    found = [PLAIN_CONTEXT.search(message) for message in tasks]
    assert all(found), tasks
    contexts = [
        {"batch": int(one[1])} | ({} if one[2] is None else {"chunk": int(one[2])})
        for one in found
        if one is not None
    ]
    assert sorted(contexts, key=by_chunk) == CONTEXTS
