"""`cpb import oneroster ZIP` through click's runner with the real command group, on the
database of `session_factory`: the counts and findings it prints, the audit entry, and a bundle
with a structural problem refused on stderr with nothing written."""

import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from cli.commands import Context
from cli.main import cli
from shared.core.db import SessionFactory
from shared.models import AuditEntry
from tests.support.oneroster import (
    FIXTURES,
    NOTHING,
    PERSONS,
    UNKNOWN_AGENT,
    clean_tables,
    fixture_text,
    person,
    read_tables,
    replaced,
    row_counts,
    without_lines,
)

FIRST = [
    "schools.csv: 2 new, 0 updated, 0 unchanged",
    "calendars.csv: 2 new, 0 updated, 0 unchanged",
    "people.csv: 8 new, 0 updated, 0 unchanged",
    "households.csv: 2 new, 0 updated, 0 unchanged",
    "householdMembers.csv: 6 new, 0 updated, 0 unchanged",
    "enrollments.csv: 3 new, 0 updated, 0 unchanged",
    "relationships.csv: 6 new, 0 updated, 0 unchanged",
    "districtAssignments.csv: 2 new, 0 updated, 0 unchanged",
    "preferences.csv: 0 new, 0 updated, 0 unchanged",
    f"skipped: {UNKNOWN_AGENT}",
]
DIRTY = "quarantined: users.csv:6: email: wei chen@example.org: " + (
    "not an e-mail address (name@domain.example, without spaces)"
)


@pytest.fixture
def runner(
    session_factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> CliRunner:
    """The commands on the database of `session_factory` (migrated already)."""
    engine = session_factory.kw["bind"]
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("CPB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CPB_TIMEZONE", "UTC")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    return CliRunner()


def _zip(path: Path, version: str, files: dict[str, str] | None = None) -> Path:
    """The fixture bundle in one folder of a zip, some files replaced."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for source in sorted((FIXTURES / version).iterdir()):
            text = (files or {}).get(source.name, source.read_text(encoding="utf-8"))
            archive.writestr(f"export/{source.name}", text)
    return path


def _import(runner: CliRunner, path: Path) -> Result:
    """The command with a context of this test's, whose engine is closed after it."""
    context = Context()
    try:
        return runner.invoke(cli, ["import", "oneroster", str(path)], obj=context)
    finally:
        context.engine.dispose()


def _audit(factory: SessionFactory) -> list[tuple[object, ...]]:
    with factory.begin() as session:
        rows = session.execute(
            select(AuditEntry.username, AuditEntry.action, AuditEntry.subject, AuditEntry.detail)
        )
        return [tuple(row) for row in rows]


def test_a_zip_is_imported_and_every_count_and_finding_printed(
    runner: CliRunner, session_factory: SessionFactory, tmp_path: Path
):
    users = replaced(fixture_text("v1p1", "users.csv"), ("wei.chen@", "wei chen@"))
    archive = _zip(tmp_path / "lakeside.zip", "v1p1", {"users.csv": users})

    result = _import(runner, archive)

    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [*FIRST, DIRTY]
    wei = person("u-p201,Wei,Chen,,,6125550102,,,,")
    persons = [wei if row[0] == "u-p201" else row for row in PERSONS]
    assert read_tables(session_factory) == clean_tables("v1p1") | {"persons": persons}
    first = {"added": 0, "updated": 0, "unchanged": 0, "ended": 0}
    added = [2, 2, 8, 2, 6, 3, 6, 2, 0]
    names = [line.split(":")[0] for line in FIRST[:-1]]
    assert _audit(session_factory) == [
        (
            None,
            "import.oneroster",
            str(archive),
            {
                "files": {name: first | {"added": n} for name, n in zip(names, added, strict=True)},
                "quarantined": 1,
                "skipped": 1,
            },
        )
    ]


def test_ended_links_are_printed_with_their_counts(
    runner: CliRunner, session_factory: SessionFactory, tmp_path: Path
):
    """Rosa Diaz (u-p200) leaves users.csv: her links end; the same zip again ends nothing."""
    users = without_lines(fixture_text("v1p1", "users.csv"), "u-p200,")
    assert _import(runner, _zip(tmp_path / "first.zip", "v1p1")).exit_code == 0
    archive = _zip(tmp_path / "second.zip", "v1p1", {"users.csv": users})

    result = _import(runner, archive)
    again = _import(runner, archive)

    assert (result.exit_code, result.stderr) == (0, "")
    gone = "'u-p200' names no user in the bundle; skipped"
    assert result.stdout.splitlines() == [
        "schools.csv: 0 new, 0 updated, 2 unchanged",
        "calendars.csv: 0 new, 0 updated, 2 unchanged",
        "people.csv: 0 new, 0 updated, 7 unchanged",
        "households.csv: 0 new, 0 updated, 1 unchanged",
        "householdMembers.csv: 2 new, 0 updated, 2 unchanged, 4 ended",
        "enrollments.csv: 0 new, 0 updated, 3 unchanged",
        "relationships.csv: 0 new, 0 updated, 4 unchanged, 2 ended",
        "districtAssignments.csv: 0 new, 0 updated, 2 unchanged",
        "preferences.csv: 0 new, 0 updated, 0 unchanged",
        f"skipped: users.csv:2: agentSourcedIds: {gone}",
        f"skipped: users.csv:3: agentSourcedIds: {gone}",
        f"skipped: {UNKNOWN_AGENT}",
    ]
    assert (again.exit_code, again.stderr) == (0, "")
    assert again.stdout.splitlines() == [
        line.replace(
            "2 new, 0 updated, 2 unchanged, 4 ended", "0 new, 0 updated, 4 unchanged"
        ).replace(", 2 ended", "")
        for line in result.stdout.splitlines()
    ]
    assert read_tables(session_factory)["persons"] == PERSONS


def test_a_zip_with_a_structural_problem_is_refused_and_nothing_written(
    runner: CliRunner, session_factory: SessionFactory, tmp_path: Path
):
    enrollments = replaced(fixture_text("v1p2", "enrollments.csv"), ("e3,,", "e3,done,"))
    roles = fixture_text("v1p2", "roles.csv") + "r11,,,u-t401,primary,teacher,,,s1,\n"
    archive = _zip(
        tmp_path / "bad.zip", "v1p2", {"enrollments.csv": enrollments, "roles.csv": roles}
    )

    result = _import(runner, archive)

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "roles.csv:12: userSourcedId: 'u-t401' is not in users.csv",
        "enrollments.csv:4: status: 'done' is not active or tobedeleted",
    ]
    assert row_counts(session_factory) == NOTHING
    assert _audit(session_factory) == []
