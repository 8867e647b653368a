"""The `cpb` commands over the domain: the schema, imports and exports, users and tokens, and
the synthetic district of `cpb seed`. `cpb run` is in cli/main.py."""

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from shared.access.tokens import create_token, list_tokens, revoke_token
from shared.access.users import create_user, list_users, update_user
from shared.core.db import SessionFactory, make_engine, make_session_factory, read_session
from shared.core.errors import CpbError, ImportFailed
from shared.core.migrate import upgrade
from shared.core.settings import Settings
from shared.core.vocabulary import ROLES
from shared.imports.demo import load_demo
from shared.imports.native import ImportSummary
from shared.imports.native.summary import FILE_FIELDS
from shared.imports.oneroster_seed import SEED_WRITERS
from shared.people.export import write_preferences_csv


class Context:
    """What every command needs, built once the command runs."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self.engine = make_engine(self.settings.database_url, role="cpb-cli")
        self._factory: SessionFactory | None = None
        current = click.get_current_context(silent=True)
        if current is not None:  # its connections closed when the command ends
            current.find_root().call_on_close(self.engine.dispose)

    @property
    def factory(self) -> SessionFactory:
        if self._factory is None:
            self._factory = make_session_factory(self.engine)
        return self._factory


pass_context = click.make_pass_decorator(Context, ensure=True)


class CpbGroup(click.Group):
    """Turns the product's errors into a message on stderr and a non-zero exit, no traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ImportFailed as failed:
            for problem in failed.problems:
                click.echo(problem, err=True)
            raise click.exceptions.Exit(1) from failed
        except CpbError as error:
            click.echo(f"error: {error}", err=True)
            raise click.exceptions.Exit(1) from error


@click.group(cls=CpbGroup)
def cli() -> None:
    """Contact Preferences Batch: set messenger contact preferences en masse."""


@cli.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
@pass_context
def db_upgrade(context: Context) -> None:
    """Create or migrate the tables to the newest schema."""
    upgrade(context.engine)
    click.echo("database is up to date")


@cli.group()
def export() -> None:
    """Write data out."""


@export.command("preferences")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="default: stdout")
@pass_context
def export_preferences(context: Context, out: Path | None) -> None:
    """Every preference as CSV (see README.md, "CSV formats"), streamed."""
    with read_session(context.factory) as session:
        if out is None:
            write_preferences_csv(session, sys.stdout)
            return
        with out.open("w", encoding="utf-8", newline="") as stream:
            rows = write_preferences_csv(session, stream)
    click.echo(f"wrote {rows} rows to {out}", err=True)


@cli.group()
def users() -> None:
    """People who may log in."""


@users.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in ROLES]), required=True)
@click.option("--school", "schools", multiple=True, help="a school the user may act on")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@pass_context
def users_create(
    context: Context, username: str, role: str, schools: tuple[str, ...], password_stdin: bool
) -> None:
    """Create a user; asks for the password unless --password-stdin."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    with context.factory.begin() as session:
        create_user(session, username, role, password, list(schools))
    click.echo(f"created user {username} ({role})")


@users.command("list")
@pass_context
def users_list(context: Context) -> None:
    """Every user with their role and schools."""
    with context.factory() as session:
        views = list_users(session)
    _echo_table(
        ("username", "role", "schools"),
        [(view.username, view.role, ",".join(view.school_ids)) for view in views],
    )


@users.command("update")
@click.argument("username")
@click.option("--role", type=click.Choice([role.value for role in ROLES]), help="the new role")
@click.option("--school", "schools", multiple=True, help="replaces the user's schools")
@click.option("--password-stdin", is_flag=True, help="read a new password from standard input")
@pass_context
def users_update(
    context: Context,
    username: str,
    role: str | None,
    schools: tuple[str, ...],
    password_stdin: bool,
) -> None:
    """Change a user's role, schools or password; a user who stops being a school_admin loses
    their schools."""
    if role is None and not schools and not password_stdin:
        raise click.UsageError("nothing to change: give --role, --school or --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    with context.factory.begin() as session:
        changes = update_user(
            session,
            username,
            role=role,
            school_ext_ids=list(schools) if schools else None,
            password=password,
            by=None,
        )
    if not changes:
        click.echo(f"user {username} unchanged")
        return
    click.echo(f"updated user {username}: {_changes_text(changes)}")


@cli.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="", help="what the token is for, e.g. the calling system")
@pass_context
def tokens_create(context: Context, username: str, name: str) -> None:
    """Create an API token for the user; the token is printed alone on the last line."""
    with context.factory.begin() as session:
        token = create_token(session, username, name=name)
    click.echo(f"token for {username} (shown once; keep it secret):", err=True)
    click.echo(token)


@tokens.command("list")
@click.argument("username", required=False)
@pass_context
def tokens_list(context: Context, username: str | None) -> None:
    """Every token (or one user's), revoked ones too, oldest first; never the tokens
    themselves, which are not kept."""
    zone = context.settings.zone
    with context.factory() as session:
        views = list_tokens(session, username)
    _echo_table(
        ("id", "user", "name", "created", "last used", "revoked"),
        [
            (
                str(view.id),
                view.username,
                view.name,
                _moment(view.created_at, zone),
                _moment(view.last_used_at, zone),
                _moment(view.revoked_at, zone),
            )
            for view in views
        ],
    )


@tokens.command("revoke")
@click.argument("token_id", type=click.IntRange(min=1))
@pass_context
def tokens_revoke(context: Context, token_id: int) -> None:
    """Revoke a token for good (the ids are in `cpb tokens list`)."""
    with context.factory.begin() as session:
        revoke_token(session, token_id)
    click.echo(f"revoked token {token_id}")


@cli.command()
@click.option("--students", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--format", "form", type=click.Choice(list(SEED_WRITERS)), default="native")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="the bundle's folder")
@click.pass_context
def seed(ctx: click.Context, students: int, seed: int, form: str, out: Path | None) -> None:
    """Load a synthetic district of N students, or with --out only write it there as a bundle
    of --format (oneroster needs --out)."""
    if out is not None:
        SEED_WRITERS[form](out, students, seed)
        importer = "csv" if form == "native" else form
        click.echo(f"wrote a {form} bundle of {students} students to {out}")
        click.echo(f"import it with: cpb import {importer} {out}")
        return
    if form != "native":
        raise click.UsageError(f"--format {form} only writes a bundle: give --out DIR")
    with ctx.ensure_object(Context).factory.begin() as session:
        summary = load_demo(session, students=students, seed=seed)
    _echo_summary(summary)


def _echo_table(header: Sequence[str], rows: list[tuple[str, ...]]) -> None:
    """Columns padded to their widest cell, two spaces apart; an empty cell shows `-`."""
    lines = [tuple(header), *(tuple(cell or "-" for cell in row) for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for line in lines:
        cells = (cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        click.echo("  ".join(cells).rstrip())


def _changes_text(changes: dict[str, Any]) -> str:
    """`update_user`'s changes as the command line says them."""
    parts = []
    if "role" in changes:
        parts.append(f"role {changes['role']}")
    if "schoolIds" in changes:
        parts.append(f"schools {','.join(changes['schoolIds']) or '-'}")
    if "password" in changes:
        parts.append("password changed")
    return "; ".join(parts)


def _moment(moment: datetime | None, zone: ZoneInfo) -> str:
    """In the district's time zone; SQLite gives back naive UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _echo_summary(summary: ImportSummary) -> None:
    for file_name, field in FILE_FIELDS.items():
        counts = getattr(summary, field)
        click.echo(
            f"{file_name}: {counts.inserted} new, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )
