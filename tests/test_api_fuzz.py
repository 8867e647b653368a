"""schemathesis against the API's own OpenAPI document, served for real: every check, the
examples, coverage, fuzzing and stateful phases, a fixed seed (tests/support/fuzz.py runs it).

Three runs: a district admin on PostgreSQL with gunicorn and a real worker; a district admin on
the embedded default (`cpb run`, SQLite); and a school admin on PostgreSQL, where one more check
(tests/support/fuzz_hooks.py) fails any 2xx that reaches another school's batch, person,
household, filter, school or calendar. Real ids are fed to the fuzzer (schemathesis's fuzz
dictionaries, and real scopes for the batches it submits) so that it gets past the 404s to the
code behind them, and, as the school admin, to the other school's objects.
"""

import contextlib
import os
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support import fuzz
from tests.support.fuzz import Binding, created, finished_batch
from tests.support.fuzz_hooks import OtherSchool, reached_objects
from tests.support.processes import background_process, celery_worker
from tests.support.services import free_port
from tests.support.stack import cpb

# Within the stack district's calendars (2025-26); the demo district's follow today instead.
AS_OF = {"asOf": "2025-10-15"}
CHANGES = {"changes": {"email": {"emergency": "on"}, "householdPhone": {"attendance": "on"}}}
BATCH = {"mode": "studentContact"} | AS_OF | CHANGES
PASSWORD = "correct horse battery\n"
# A second school for the stack district (tests/support/stack.py has S1 alone): its calendar,
# students, a guardian, staff and a household, none of them in S1.
SECOND_SCHOOL = {
    "schools.csv": "schoolId,name\nS2,Two School\n",
    "calendars.csv": "calendarId,schoolId,name,schoolYear,startDate,endDate\n"
    "C2,S2,2025-26 Two,2025-26,2025-08-19,2026-06-04\n",
    "people.csv": "personId,firstName,lastName,studentNumber,staffNumber,homePhone,workPhone,"
    "cellPhone,email,secondaryEmail\n"
    "U1,Uma,Two,101,,,,,u1@example.org,\n"
    "U2,Uri,Two,102,,,,,,\n"
    "K1,Kim,Two,,,,,5550101,k1@example.org,\n"
    "K2,Kai,Staff,,E12,,,,k2@example.org,\n",
    "households.csv": "householdId,name,phone\nH9,Nine,5559009\n",
    "householdMembers.csv": "householdId,personId,startDate,endDate\nH9,K1,,\nH9,U1,,\n",
    "enrollments.csv": "personId,calendarId,grade,startDate,endDate\nU1,C2,03,,\nU2,C2,04,,\n",
    "relationships.csv": "studentId,contactId,name,guardian,messenger,startDate,endDate\n"
    "U1,K1,Mother,true,true,,\nU2,K1,Mother,true,true,,\n",
    "districtAssignments.csv": "personId,schoolId,title,startDate,endDate\nK2,S2,Teacher,,\n",
}
OTHER_KINDS = {"batch", "filter", "person", "household", "school", "calendar"}
OTHER_SCOPES = [{"calendarId": "C2"}, {"schoolId": "S2", "schoolYear": "2025-26"}]
OTHER_FILTERS = [
    {"name": "3s", "kind": "student", "criteria": {"grades": ["03"]}},
    {"name": "staff", "kind": "census", "criteria": {"staff": True}},
]


def token_of(env: dict[str, str], username: str) -> str:
    return cpb(env, "tokens", "create", username).strip().splitlines()[-1]


@dataclass(frozen=True)
class District:
    """Real ids of a district, for the fuzzer: people, households, a school and its calendar of
    the school year `year`."""

    people: tuple[str, ...]
    households: tuple[str, ...]
    school: str
    calendar: str
    year: str

    def scopes(self) -> list[dict[str, str]]:
        """The three kinds of scope: a calendar, a school in a year, the whole district."""
        year = {"schoolYear": self.year}
        return [{"calendarId": self.calendar}, {"schoolId": self.school} | year, year]


STACK_DISTRICT = District(("G1", "T1", "G5", "G6"), ("H1", "H2", "H3"), "S1", "C1", "2025-26")


def district_bindings(
    base: str, token: str, district: District, when: dict[str, str]
) -> dict[str, Binding]:
    """Half the time the fuzzer's ids are real ones: a batch and a preview made here, two
    filters, and the district's people, households, school and calendar."""
    scope = {"scope": {"calendarId": district.calendar}} | when | CHANGES
    applied = finished_batch(base, token, {"mode": "studentContact"} | scope)
    preview = finished_batch(base, token, {"mode": "student", "dryRun": True} | scope)
    student = created(base, token, "/filters", {"name": "all", "kind": "student", "criteria": {}})
    census = created(base, token, "/filters", {"name": "all", "kind": "census", "criteria": {}})
    return {
        "path.batchId": Binding((applied, preview), 0.5),
        "path.personId": Binding(district.people, 0.5),
        "path.householdId": Binding(district.households, 0.5),
        "path.filterId": Binding((student, census), 0.5),
        "body.filterId": Binding((student, census), 0.5),
        "body.scope.schoolId": Binding((district.school,), 0.5),
        "body.scope.calendarId": Binding((district.calendar,), 0.5),
    }


def assert_no_failures(run: fuzz.FuzzRun) -> None:
    """Every operation of the document was tested, and no check failed."""
    operations = run.report.get("operations", {})
    assert operations.get("tested") == operations.get("total"), run.explained()
    assert run.returncode == 0, run.explained()


@pytest.mark.fuzz
@pytest.mark.postgres
@pytest.mark.redis
def test_fuzz_as_a_district_admin_on_postgres(
    stack_env: dict[str, str], tmp_path: Path, record_property: Any
) -> None:
    token = token_of(stack_env, "ada")
    with celery_worker(stack_env, concurrency=1), fuzz.gunicorn(stack_env) as base:
        bindings = district_bindings(base, token, STACK_DISTRICT, AS_OF)
        scopes = STACK_DISTRICT.scopes()
        run = fuzz.run_schemathesis(base, token, tmp_path / "st", bindings, scopes)
        # Within the block: a failure's report shows the tail of gunicorn's and the worker's logs.
        record_property("schemathesis_seconds", round(run.seconds, 1))
        assert_no_failures(run)


@pytest.fixture
def embedded(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """`cpb run` as the README's quick start runs it, in an empty instance folder: SQLite, the
    worker in the process, the demo district of 300 students and the user `admin`."""
    # Empty, not unset: the session's own DATABASE_URL or CELERY_BROKER_URL must not leak in.
    env = dict.fromkeys(("DATABASE_URL", "CELERY_BROKER_URL"), "")
    env["CPB_INSTANCE_PATH"] = str(tmp_path / "instance")
    port = free_port()
    command = [sys.executable, "-c", "from cli.main import main; main()", "run"]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with background_process("cpb run", command, env, ready=r"running at http://"):
        yield f"http://127.0.0.1:{port}", {**os.environ, **env}


def demo_district(instance: Path) -> District:
    """People with an email and households with a phone of the demo district, and a calendar of
    its newest year with its school."""
    database = f"file:{instance / 'cpb.sqlite3'}?mode=ro"
    with contextlib.closing(sqlite3.connect(database, uri=True)) as connection:
        people = connection.execute(
            "SELECT ext_id FROM people WHERE email IS NOT NULL ORDER BY id LIMIT 4"
        ).fetchall()
        households = connection.execute(
            "SELECT ext_id FROM households WHERE phone IS NOT NULL ORDER BY id LIMIT 3"
        ).fetchall()
        school, calendar, year = connection.execute(
            "SELECT schools.ext_id, calendars.ext_id, calendars.school_year FROM calendars"
            " JOIN schools ON schools.id = calendars.school_id"
            " ORDER BY calendars.school_year DESC, calendars.id LIMIT 1"
        ).fetchone()
    return District(
        tuple(row[0] for row in people), tuple(row[0] for row in households), school, calendar, year
    )


@pytest.mark.fuzz
def test_fuzz_as_a_district_admin_on_the_embedded_default(
    embedded: tuple[str, dict[str, str]], tmp_path: Path, record_property: Any
) -> None:
    base, env = embedded
    token = token_of(env, "admin")
    district = demo_district(Path(env["CPB_INSTANCE_PATH"]))
    bindings = district_bindings(base, token, district, {})
    run = fuzz.run_schemathesis(base, token, tmp_path / "st", bindings, district.scopes())
    record_property("schemathesis_seconds", round(run.seconds, 1))
    assert_no_failures(run)


def other_school_objects(base: str, ada: str, sam: str) -> tuple[OtherSchool, dict[str, Binding]]:
    """As the district admin: batches over S2, its calendar and the district (with idempotency
    keys), and two filters; as the school admin of S1: a batch and a filter of their own. Returns
    what the check guards, and the fuzzer's ids: 9 in 10 of its batch, filter, person and
    household ids, all schoolIds, calendarIds and filterIds, 3 in 10 Idempotency-Keys."""
    year = {"schoolYear": "2025-26"}
    keys = ("ada-school", "ada-calendar", "ada-district")
    batches = (
        finished_batch(base, ada, {"scope": {"schoolId": "S2"} | year} | BATCH, keys[0]),
        finished_batch(base, ada, {"scope": {"calendarId": "C2"}, "dryRun": True} | BATCH, keys[1]),
        finished_batch(base, ada, {"scope": year, "dryRun": True} | BATCH, keys[2]),
    )
    filters = tuple(created(base, ada, "/filters", body) for body in OTHER_FILTERS)
    own_batch = finished_batch(base, sam, {"scope": {"calendarId": "C1"}} | BATCH)
    own_filter = created(base, sam, "/filters", {"name": "mine", "kind": "student", "criteria": {}})
    people, households = ("U1", "U2", "K1", "K2"), ("H9",)
    other = OtherSchool(
        batches=frozenset(batches),
        filters=frozenset(filters),
        people=frozenset(people),
        households=frozenset(households),
        schools=frozenset({"S2"}),
        calendars=frozenset({"C2"}),
    )
    return other, {
        "path.batchId": Binding((*batches, own_batch), 0.9),
        "path.filterId": Binding((*filters, own_filter), 0.9),
        "path.personId": Binding((*people, "G1"), 0.9),
        "path.householdId": Binding((*households, "H1"), 0.9),
        "body.filterId": Binding((*filters, own_filter), 1.0),
        "body.scope.schoolId": Binding(("S2", "S1"), 1.0),
        "body.scope.calendarId": Binding(("C2", "C1"), 1.0),
        "header.Idempotency-Key": Binding(keys, 0.3),
    }


@pytest.mark.fuzz
@pytest.mark.postgres
@pytest.mark.redis
def test_fuzz_as_a_school_admin_reaches_nothing_of_another_school(
    stack_env: dict[str, str], tmp_path: Path, record_property: Any
) -> None:
    bundle = tmp_path / "second-school"
    bundle.mkdir()
    for name, text in SECOND_SCHOOL.items():
        (bundle / name).write_text(text)
    cpb(stack_env, "import", "csv", str(bundle))
    sam = ["users", "create", "sam", "--role", "school_admin", "--school", "S1"]
    cpb(stack_env, *sam, "--password-stdin", stdin=PASSWORD)
    ada_token, sam_token = token_of(stack_env, "ada"), token_of(stack_env, "sam")
    with celery_worker(stack_env, concurrency=1), fuzz.gunicorn(stack_env) as base:
        other, bindings = other_school_objects(base, ada_token, sam_token)
        # The other school's scopes twice: naming them is what this run is for. Its batches
        # are all valid, so that only the reach check stands between them and a 202.
        scopes = [*OTHER_SCOPES, *OTHER_SCOPES, *STACK_DISTRICT.scopes()]
        workdir, positive = tmp_path / "st", ["POST /batches"]
        run = fuzz.run_schemathesis(base, sam_token, workdir, bindings, scopes, other, positive)
        record_property("schemathesis_seconds", round(run.seconds, 1))
        assert OTHER_KINDS - fuzz.kinds_sent(run, other) == set(), run.explained()
        # The check judged every 2xx (it skips the rest): none went unjudged.
        answered = sum(1 for exchange in run.exchanges if 200 <= (exchange.status or 0) < 300)
        assert run.checks_run["no_other_schools_object"] == answered, run.explained()
        assert_no_failures(run)


# --- the check itself, without a server --------------------------------------------------------

OTHER = OtherSchool(
    batches=frozenset({7}),
    filters=frozenset({3}),
    people=frozenset({"U1"}),
    households=frozenset({"H9"}),
    schools=frozenset({"S2"}),
    calendars=frozenset({"C2"}),
)
OWN_SCOPE = {"mode": "student", "scope": {"calendarId": "C1"}}


@pytest.mark.parametrize(
    ("method", "path", "body", "answer", "reached"),
    [
        ("POST", "/batches/7/undo", None, None, ["batch 7"]),
        # The router reads any script's digits: an Arabic-Indic seven is batch 7.
        ("GET", "/batches/\u0667/changes.csv", None, None, ["batch \u0667"]),
        ("GET", "/batches/8", None, {"id": 8}, []),
        ("OPTIONS", "/batches/7/undo", None, None, []),
        ("GET", "/batches/" + "9" * 5000, None, None, []),
        ("GET", "/filters/3", None, None, ["filter 3"]),
        ("PATCH", "/people/U1/preferences", {"setBy": "staff"}, None, ["person U1"]),
        ("GET", "/people/G1/preferences", None, None, []),
        ("PATCH", "/households/H9/preferences", None, None, ["household H9"]),
        ("POST", "/batches", OWN_SCOPE, {"id": 9}, []),
        (
            "POST",
            "/batches",
            {"mode": "student", "scope": {"schoolId": "S2", "schoolYear": "x"}, "filterId": 3},
            {"id": 9},
            ["school S2 (the batch's scope)", "filter 3 (the batch's filter)"],
        ),
        (
            "POST",
            "/batches",
            {"mode": "census", "scope": {"calendarId": ["C2"]}},
            {"id": 9},
            [
                "district (the batch's scope names no school or calendar)",
                "census (the batch's mode)",
            ],
        ),
        ("POST", "/batches", OWN_SCOPE, {"id": 7}, ["batch 7 (in the answer)"]),
        ("GET", "/batches", None, {"items": [{"id": 7}, {"id": 8}]}, ["batch 7 (in the answer)"]),
        ("GET", "/filters", None, {"items": [{"id": 3}]}, ["filter 3 (in the answer)"]),
    ],
)
def test_the_school_check_names_what_of_another_school_a_request_reached(
    method: str, path: str, body: Any, answer: Any, reached: list[str]
) -> None:
    assert reached_objects(OTHER, method, path, body, answer) == reached


def test_the_other_school_travels_to_the_check_as_json() -> None:
    assert OtherSchool.from_json(OTHER.to_json()) == OTHER
