"""The `cpb` commands on a SQLite file, through click's runner with the real command group."""

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from cli.main import cli
from shared.access.tokens import user_for_token
from shared.core.db import make_engine, make_session_factory
from shared.models import AuditEntry, Person

PEOPLE = (
    "personId,firstName,lastName,studentNumber,staffNumber,homePhone,workPhone,cellPhone,"
    "email,secondaryEmail\n"
)


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.setenv("CPB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert (result.exit_code, result.output) == (0, "database is up to date\n")
    return CliRunner()


def bundle(tmp_path: Path, people: str) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir(exist_ok=True)
    (folder / "people.csv").write_text(PEOPLE + people)
    return folder


def count_people(tmp_path: Path) -> int:
    engine = make_engine(f"sqlite:///{tmp_path}/cli.sqlite3")
    try:
        with make_session_factory(engine)() as session:
            return session.scalar(select(func.count()).select_from(Person)) or 0
    finally:
        engine.dispose()


def test_import_then_export(runner: CliRunner, tmp_path: Path):
    folder = bundle(tmp_path, "P1,Ann,Lee,,,,,5551234,ann@example.org,\nP2,Bo,Kim,,,,,,,\n")
    imported = runner.invoke(cli, ["import", "csv", str(folder)])
    assert imported.exit_code == 0, imported.output
    assert "people.csv: 2 new, 0 updated, 0 unchanged\n" in imported.output
    again = runner.invoke(cli, ["import", "csv", str(folder)])
    assert "people.csv: 0 new, 0 updated, 2 unchanged\n" in again.output

    out = tmp_path / "export.csv"
    exported = runner.invoke(cli, ["export", "preferences", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    assert out.read_text().splitlines() == [
        "subjectType,subjectId,channel,address,emergency,attendance,behavior,staff,general,"
        "foodService,priority,teacher,guardianSet",
        "person,P1,cellPhone,5551234,0,0,0,0,0,0,0,0,",
        "person,P1,email,ann@example.org,0,0,0,0,0,0,0,0,",
    ]
    to_stdout = runner.invoke(cli, ["export", "preferences"])
    assert to_stdout.output.splitlines() == out.read_text().splitlines()


def test_a_bad_bundle_reports_every_problem_and_writes_nothing(runner: CliRunner, tmp_path: Path):
    folder = bundle(tmp_path, "P1,,Lee,,,,,,ann@example.org,\n,Bo,Kim,,,,,,,\n")
    result = runner.invoke(cli, ["import", "csv", str(folder)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "people.csv:2: firstName: required, but empty",
        "people.csv:3: personId: required, but empty",
    ]
    assert count_people(tmp_path) == 0


def test_users_and_tokens(runner: CliRunner, tmp_path: Path):
    created = runner.invoke(
        cli,
        ["users", "create", "ada", "--role", "viewer", "--password-stdin"],
        input="a long enough password\n",
    )
    assert (created.exit_code, created.output) == (0, "created user ada (viewer)\n")
    token = runner.invoke(cli, ["tokens", "create", "ada"])
    assert token.exit_code == 0
    secret = token.stdout.splitlines()[-1]
    engine = make_engine(f"sqlite:///{tmp_path}/cli.sqlite3")
    try:
        with make_session_factory(engine)() as session:
            user = user_for_token(session, secret)
            assert (user.username, user.role) == ("ada", "viewer")
            actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
            assert actions == ["user.create", "token.create"]
    finally:
        engine.dispose()

    unknown = runner.invoke(cli, ["tokens", "create", "nobody"])
    assert (unknown.exit_code, unknown.output) == (1, "error: no user named 'nobody'\n")
    twice = runner.invoke(
        cli, ["users", "create", "ada", "--role", "viewer", "--password-stdin"], input="x" * 12
    )
    assert (twice.exit_code, twice.output) == (1, "error: a user named 'ada' exists already\n")
