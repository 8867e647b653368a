"""schemathesis (`st run`, its command line) against the API served for real, for
tests/test_api_fuzz.py; and the little HTTP the tests need to set data up before a run.

The command line rather than the Python API: one `st run` drives every phase (examples, coverage,
fuzzing, stateful) the way a developer reproduces it by hand, prints each failure with its curl,
and runs in its own process, so Hypothesis and schemathesis stay out of the test session's
`filterwarnings = ["error"]` and the app's code is only reached over HTTP.
"""

import base64
import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tests.support import fuzz_hooks as hooks
from tests.support.processes import REPO_ROOT, background_process, wait_until
from tests.support.services import free_port
from tests.support.stack import FINAL

PHASES: Final = "examples,coverage,fuzzing,stateful"
# Per operation and phase: the three runs, set-up included, take 75 to 145 s on two cores (the
# coverage phase, 12 to 22 s of each run, adds its own boundary cases whatever this is).
MAX_EXAMPLES: Final = 20
SEED: Final = 20251015
WORKERS: Final = 2
HOOKS: Final = "tests.support.fuzz_hooks"
RUN_TIMEOUT: Final = 300.0
# Values sent in place of one in ten generated strings (query, path, header and cookie) and
# integers: one character past each column width (9, 64, 100, 200, 254), and one past the largest
# 32- and 64-bit integers (as strings, which TOML can hold).
EDGE_STRINGS: Final = tuple("x" * (width + 1) for width in (9, 64, 100, 200, 254))
EDGE_INTEGERS: Final = (str(2**31), str(2**63))
EDGE_PROBABILITY: Final = 0.1
# Free text that reaches the database gets a NUL too, which PostgreSQL's text refuses. Not the
# headers and cookies: the HTTP server (gunicorn, waitress) refuses a NUL there itself, rightly,
# with a 400 that is not the API's. A lone surrogate cannot be sent this way: TOML cannot hold
# one, and schemathesis never makes one.
FREE_TEXT: Final = ("body.name", "body.scope.schoolYear", "query.username")
FREE_TEXT_EDGES: Final = (*EDGE_STRINGS, "\x00")
# Valid by the document and still refused with a 400, rightly, for what only the district's data
# decides (a scope or filter naming no row, a filter of the other kind, a person without an
# address on the channel, a household without a phone) or what the document says in words
# only (a census batch names a filter, a request must set something on or off, a cron rule's
# fields or a date exist): valid data is accepted there with a 400 too. Everywhere else a 400
# for valid data fails the run.
JUDGED_ON_DATA: Final = (
    "POST /batches",
    "PATCH /people/{personId}/preferences",
    "PATCH /households/{householdId}/preferences",
    "POST /schedules",
    "PATCH /schedules/{scheduleId}",
    "POST /imports",  # a file is a zip of a bundle, which no schema can say
)
# schemathesis's own list for valid data, and 400.
VALID_DATA_ANSWERS: Final = ("2xx", "3xx", "400", "401", "403", "404", "409", "429", "5xx")


@dataclass(frozen=True)
class Binding:
    """Values for a parameter (`path.batchId`, `body.scope.calendarId`): real ids or edge cases,
    and how often the fuzzer sends one of them instead of a value of its own."""

    values: tuple[str | int, ...]
    probability: float


@dataclass(frozen=True)
class Exchange:
    """One request schemathesis sent and the status it got (None: no answer)."""

    method: str
    url: str
    body: Any
    status: int | None


@dataclass(frozen=True)
class FuzzRun:
    command: str
    returncode: int
    output: str
    seconds: float
    report: dict[str, Any]
    exchanges: tuple[Exchange, ...]
    checks_run: Counter[str]

    def explained(self) -> str:
        """For an assertion message: the command, then schemathesis's own output (each failure
        with its curl reproduction, the token filtered out)."""
        return f"{self.command}\nexit {self.returncode} after {self.seconds:.0f}s\n{self.output}"


def config_text(bindings: Mapping[str, Binding], positive: Sequence[str] = ()) -> str:
    """A schemathesis.toml that feeds each bound parameter from a fuzz dictionary of its own,
    and every string and integer parameter now and then from EDGE_STRINGS and EDGE_INTEGERS;
    the operations named in `positive` ("POST /batches") get only valid requests."""
    lines = [f"[dictionaries.strings]\nvalues = {json.dumps(EDGE_STRINGS)}\n"]
    lines.append(f"[dictionaries.integers]\nvalues = {json.dumps(EDGE_INTEGERS)}\n")
    lines.append("[generation.dictionaries]")
    for kind, name in (("string", "strings"), ("integer", "integers")):
        lines.append(f'{kind} = {{ dictionary = "{name}", probability = {EDGE_PROBABILITY} }}')
    lines.append("")
    for number, binding in enumerate(bindings.values()):
        lines += [f"[dictionaries.d{number}]", f"values = {json.dumps(list(binding.values))}", ""]
    lines.append("[parameters]")
    for number, (key, binding) in enumerate(bindings.items()):
        entry = f'{{ dictionary = "d{number}", probability = {binding.probability} }}'
        lines.append(f"{json.dumps(key)} = {entry}")
    for name in dict.fromkeys((*positive, *JUDGED_ON_DATA)):
        lines += ["", "[[operations]]", f"include-name = {json.dumps(name)}"]
        if name in positive:
            lines.append('generation.mode = "positive"')
        if name in JUDGED_ON_DATA:
            statuses = json.dumps(list(VALID_DATA_ANSWERS))
            lines.append(f"checks.positive_data_acceptance.expected-statuses = {statuses}")
    return "\n".join(lines) + "\n"


def st_command(base_url: str, token: str, config: Path, reports: Path) -> list[str]:
    return [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run"),
        f"{base_url}/api/v1/openapi.json",
        *("--header", f"Authorization: Bearer {token}"),
        # Every failure of an operation, not only its first.
        *("--checks", "all", "--phases", PHASES, "--continue-on-failure"),
        *("--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--workers", str(WORKERS)),
        # NUL bytes are on by default; said here so that a changed default cannot drop them.
        *("--generation-allow-x00", "true"),
        # No example database: nothing is replayed from an earlier run; the seed decides.
        *("--generation-database", "none", "--request-timeout", "30", "--no-color"),
        *("--report", "json,ndjson"),
        *("--report-json-path", str(reports / "report.json")),
        *("--report-ndjson-path", str(reports / "events.ndjson")),
    ]


def run_schemathesis(
    base_url: str,
    token: str,
    workdir: Path,
    bindings: Mapping[str, Binding],
    scopes: Sequence[Mapping[str, str]],
    other_school: hooks.OtherSchool | None = None,
    positive: Sequence[str] = (),
) -> FuzzRun:
    """`st run` against the API at `base_url` as the token's user, in `workdir` (schemathesis
    writes its caches into the current folder). `scopes` go into the batches submitted (see
    fuzz_hooks.real_scopes); the custom check judges `other_school`; the operations named in
    `positive` get only valid requests."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = workdir / "schemathesis.toml"
    edges = Binding(FREE_TEXT_EDGES, EDGE_PROBABILITY)
    config.write_text(config_text(dict.fromkeys(FREE_TEXT, edges) | dict(bindings), positive))
    command = st_command(base_url, token, config, workdir)
    # The hooks module is imported from the checkout; st's output is UTF-8 whatever the locale.
    python_path = os.pathsep.join(filter(None, (str(REPO_ROOT), os.environ.get("PYTHONPATH"))))
    env = {**os.environ, "PYTHONPATH": python_path, "PYTHONIOENCODING": "utf-8"}
    env |= {"SCHEMATHESIS_HOOKS": HOOKS, hooks.SCOPES_ENV: json.dumps(list(scopes))}
    env.pop(hooks.OTHER_SCHOOL_ENV, None)
    if other_school is not None:
        env[hooks.OTHER_SCHOOL_ENV] = other_school.to_json()
    started = time.monotonic()
    done = subprocess.run(
        command,
        cwd=workdir,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=RUN_TIMEOUT,
    )
    seconds = time.monotonic() - started
    output = (done.stdout + done.stderr).replace(token, "<token>")
    (workdir / "output.txt").write_text(output, encoding="utf-8")
    exchanges, checks_run = _events(workdir / "events.ndjson")
    report_path = workdir / "report.json"
    return FuzzRun(
        command=" ".join(command).replace(token, "<token>"),
        returncode=done.returncode,
        output=output,
        seconds=seconds,
        report=json.loads(report_path.read_text()) if report_path.exists() else {},
        exchanges=exchanges,
        checks_run=checks_run,
    )


def kinds_sent(run: FuzzRun, other: hooks.OtherSchool) -> set[str]:
    """The kinds of `other`'s objects (batch, person, ...) that the run's requests named and got
    an answer to, whatever the answer."""
    return {
        finding.split()[0]
        for exchange in run.exchanges
        if exchange.status is not None
        for finding in hooks.reached_objects(
            other, exchange.method, hooks.api_path(exchange.url) or "", exchange.body, None
        )
    }


def _events(path: Path) -> tuple[tuple[Exchange, ...], Counter[str]]:
    """Every request of the run, and how many times each check ran, from the NDJSON report."""
    exchanges: list[Exchange] = []
    checks: Counter[str] = Counter()
    lines = path.read_text().splitlines() if path.exists() else []
    for line in lines:
        recorder = json.loads(line).get("ScenarioFinished", {}).get("recorder", {})
        for interaction in recorder.get("interactions", {}).values():
            request, response = interaction["request"], interaction.get("response") or {}
            exchanges.append(
                Exchange(
                    request["method"],
                    request["uri"],
                    _json_body(request.get("body")),
                    response.get("status_code"),
                )
            )
        for results in recorder.get("checks", {}).values():
            checks.update(result["name"] for result in results)
    return tuple(exchanges), checks


def _json_body(body: Any) -> Any:
    if not isinstance(body, dict) or "$base64" not in body:
        return None
    try:
        return json.loads(base64.b64decode(body["$base64"]))
    except ValueError:
        return None


# --- the app, served for real -------------------------------------------------------------------


@contextlib.contextmanager
def gunicorn(env: Mapping[str, str], workers: int = 2) -> Iterator[str]:
    """The web app as production serves it (README), on a free loopback port, in `workers`
    processes; yields its URL."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-c", "python:web.gunicorn_conf"]
    command.append("web:create_app()")
    # Two processes (of four threads) serve schemathesis's two workers; the default, 2 x cores +
    # 1, would only add start-up time.
    served = {**env, "CPB_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": str(workers)}
    with background_process("gunicorn", command, served, ready=r"Booting worker with pid"):
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: call(base, "", "GET", "/health")[0] == 200, timeout=30)
        yield base


def call(
    base: str, token: str, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    """(status, JSON answer) of one API request as the token's user; `key` is an
    Idempotency-Key."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + "/api/v1" + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


def created(base: str, token: str, path: str, body: Any, key: str | None = None) -> int:
    """The id of what a POST made (a batch, 202, or a filter, 201)."""
    status, answer = call(base, token, "POST", path, body, key)
    assert status in (201, 202), (path, body, status, answer)
    made: int = answer["id"]
    return made


def finished_batch(base: str, token: str, body: Any, key: str | None = None) -> int:
    """A batch submitted and run to its end by the worker; its id."""
    batch_id = created(base, token, "/batches", body, key)

    def final() -> str | None:
        status = call(base, token, "GET", f"/batches/{batch_id}")[1]["status"]
        return status if status in FINAL else None

    status = wait_until(final, timeout=60, interval=0.2, message=f"batch {batch_id} to finish")
    assert status == "succeeded", (body, status)
    return batch_id
