"""`cpb users list|update` and `cpb tokens create|list|revoke` on a SQLite file, through click's
runner with the real command group: exact output, refusals that change nothing, the audit."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select, update

from cli.main import cli
from shared.access.signin import authenticate
from shared.access.tokens import token_user
from shared.core.db import SessionFactory, make_engine, make_session_factory
from shared.models import ApiToken, School
from tests.support.web import audit_rows

PASSWORD = "a long enough password"
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/cli.sqlite3")
    monkeypatch.setenv("CPB_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("CPB_TIMEZONE", "America/New_York")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    result = CliRunner().invoke(cli, ["db", "upgrade"])
    assert (result.exit_code, result.output) == (0, "database is up to date\n")
    return CliRunner()


@pytest.fixture
def factory(runner: CliRunner, tmp_path: Path) -> Iterator[SessionFactory]:
    """The command line's database, with schools S-1 and S-2."""
    engine = make_engine(f"sqlite:///{tmp_path}/cli.sqlite3")
    try:
        session_factory = make_session_factory(engine)
        with session_factory.begin() as session:
            session.add_all([School(ext_id="S-1", name="One"), School(ext_id="S-2", name="Two")])
        yield session_factory
    finally:
        engine.dispose()


def run(runner: CliRunner, *args: str, stdin: str | None = None) -> Result:
    return runner.invoke(cli, list(args), input=stdin)


def add_users(runner: CliRunner) -> None:
    for args in (
        ("admin", "--role", "district_admin"),
        ("sam", "--role", "school_admin", "--school", "S-2"),
    ):
        created = run(runner, "users", "create", *args, "--password-stdin", stdin=PASSWORD)
        assert created.exit_code == 0, created.output


USERS_TABLE = [
    "username  role            schools",
    "admin     district_admin  -",
    "sam       school_admin    S-2",
]


def test_users_list_and_update(runner: CliRunner, factory: SessionFactory):
    assert run(runner, "users", "list").output.splitlines() == ["username  role  schools"]
    add_users(runner)
    assert run(runner, "users", "list").output.splitlines() == USERS_TABLE

    schools = run(runner, "users", "update", "sam", "--school", "S-2", "--school", "S-1")
    role = run(runner, "users", "update", "sam", "--role", "viewer")
    password = run(runner, "users", "update", "sam", "--password-stdin", stdin="new password 1\n")
    same = run(runner, "users", "update", "sam", "--role", "viewer")

    assert [(r.exit_code, r.output) for r in (schools, role, password, same)] == [
        (0, "updated user sam: schools S-1,S-2\n"),
        (0, "updated user sam: role viewer; schools -\n"),
        (0, "updated user sam: password changed\n"),
        (0, "user sam unchanged\n"),
    ]
    assert run(runner, "users", "list").output.splitlines() == [
        "username  role            schools",
        "admin     district_admin  -",
        "sam       viewer          -",
    ]
    with factory.begin() as session:
        assert authenticate(session, "sam", PASSWORD) is None
        signed_in = authenticate(session, "sam", "new password 1")
        assert signed_in is not None and signed_in.username == "sam"
    assert audit_rows(factory)[2:5] == [
        (None, "user.update", "sam", {"schoolIds": ["S-1", "S-2"]}),
        (None, "user.update", "sam", {"role": "viewer", "schoolIds": []}),
        (None, "user.update", "sam", {"password": "changed"}),
    ]


@pytest.mark.parametrize(
    ("args", "stdin", "exit_code", "output"),
    [
        (("admin", "--role", "viewer"), None, 1,
         "error: 'admin' is the last district_admin; make another user district_admin first\n"),
        (("ghost", "--role", "viewer"), None, 1, "error: no user named 'ghost'\n"),
        (("admin", "--school", "S-1"), None, 1,
         "error: school: only a school_admin has schools, not a district_admin\n"),
        (("sam", "--school", "S-9"), None, 1, "error: school: unknown school(s): S-9\n"),
        (("sam", "--role", "viewer", "--password-stdin"), "short\n", 1,
         "error: password: must be 12 to 128 characters\n"),
        (("sam", "--role", "boss"), None, 2, None),
        (("sam",), None, 2, None),
    ],
)  # fmt: skip
def test_a_refused_update_says_why_and_changes_nothing(
    runner: CliRunner,
    factory: SessionFactory,
    args: tuple[str, ...],
    stdin: str | None,
    exit_code: int,
    output: str | None,
):
    add_users(runner)
    before = audit_rows(factory)

    result = run(runner, "users", "update", *args, stdin=stdin)

    assert result.exit_code == exit_code
    if output is not None:
        assert result.output == output
    else:  # click's own usage errors
        assert result.output.splitlines()[-1] in (
            "Error: nothing to change: give --role, --school or --password-stdin",
            "Error: Invalid value for '--role': 'boss' is not one of "
            "'district_admin', 'school_admin', 'viewer'.",
        )
    assert run(runner, "users", "list").output.splitlines() == USERS_TABLE
    assert audit_rows(factory) == before
    with factory() as session:
        assert authenticate(session, "sam", PASSWORD) is not None


def test_tokens_create_list_and_revoke(runner: CliRunner, factory: SessionFactory):
    add_users(runner)
    assert run(runner, "tokens", "list").output.splitlines() == [
        "id  user  name  created  last used  revoked"
    ]
    first = run(runner, "tokens", "create", "admin", "--name", "reporting")
    second = run(runner, "tokens", "create", "sam")
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert first.stderr == "token for admin (shown once; keep it secret):\n"
    secret = first.stdout.splitlines()[-1]
    assert len(secret) == 43 and first.stdout == secret + "\n"
    with factory.begin() as session:  # fixed moments, to show them
        for token_id, minute in ((1, 1), (2, 2)):
            session.execute(
                update(ApiToken)
                .where(ApiToken.id == token_id)
                .values(created_at=datetime(2025, 10, 15, 8, minute, tzinfo=UTC))
            )
        session.execute(
            update(ApiToken)
            .where(ApiToken.id == 2)
            .values(last_used_at=datetime(2025, 12, 1, 17, 30, tzinfo=UTC))
        )

    revoked = run(runner, "tokens", "revoke", "1")
    assert (revoked.exit_code, revoked.output) == (0, "revoked token 1\n")

    with factory() as session:
        assert token_user(session, secret) is None
        revoked_at = session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == 1))
    assert revoked_at is not None  # now, naive UTC from SQLite
    revoked_shown = revoked_at.replace(tzinfo=UTC).astimezone(NEW_YORK)
    assert run(runner, "tokens", "list").output.splitlines() == [
        "id  user   name       created                  last used                revoked",
        "1   admin  reporting  2025-10-15 04:01:00 EDT  -                        "
        + revoked_shown.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "2   sam    -          2025-10-15 04:02:00 EDT  2025-12-01 12:30:00 EST  -",
    ]
    assert run(runner, "tokens", "list", "sam").output.splitlines() == [
        "id  user  name  created                  last used                revoked",
        "2   sam   -     2025-10-15 04:02:00 EDT  2025-12-01 12:30:00 EST  -",
    ]
    assert audit_rows(factory)[2:] == [
        (None, "token.create", "admin", {"tokenId": 1, "name": "reporting"}),
        (None, "token.create", "sam", {"tokenId": 2}),
        (None, "token.revoke", "admin", {"tokenId": 1}),
    ]


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (("revoke", "1"), "error: token 1 was revoked already\n"),
        (("revoke", "99"), "error: no token 99\n"),
        (("create", "ghost"), "error: no user named 'ghost'\n"),
        (("create", "sam", "--name", "x" * 101), "error: name: must be at most 100 characters\n"),
    ],
)
def test_a_refused_token_command_says_why_and_changes_nothing(
    runner: CliRunner, factory: SessionFactory, args: tuple[str, ...], output: str
):
    add_users(runner)
    assert run(runner, "tokens", "create", "sam").exit_code == 0
    assert run(runner, "tokens", "revoke", "1").exit_code == 0
    before = (audit_rows(factory), run(runner, "tokens", "list").output)

    result = run(runner, "tokens", *args)

    assert (result.exit_code, result.output) == (1, output)
    assert (audit_rows(factory), run(runner, "tokens", "list").output) == before
