"""The `cpb` command line, but for `cpb run` (web/cli.py adds it, since it starts the web app)."""

import sys
from pathlib import Path

import click

from shared.accounts import create_token, create_user, record_audit
from shared.csv_import import ImportSummary, import_bundle
from shared.csv_import.summary import FILE_FIELDS
from shared.db import SessionFactory, make_engine, make_session_factory
from shared.demo import load_demo
from shared.errors import CpbError, ImportFailed
from shared.export import write_preferences_csv
from shared.migrate import upgrade
from shared.models.accounts import ROLES
from shared.settings import Settings


class Context:
    """What every command needs, built once the command runs."""

    def __init__(self) -> None:
        self.settings = Settings.from_env()
        self.engine = make_engine(self.settings.database_url)
        self._factory: SessionFactory | None = None

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


@cli.group("import")
def import_group() -> None:
    """Load district data."""


@import_group.command("csv")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_context
def import_csv(context: Context, directory: Path) -> None:
    """Import a native CSV bundle (all or nothing)."""
    with context.factory.begin() as session:
        summary = import_bundle(session, directory)
        record_audit(
            session,
            username=None,
            action="import.csv",
            subject=str(directory),
            detail=summary.as_dict(),
        )
    _echo_summary(summary)


@cli.group()
def export() -> None:
    """Write data out."""


@export.command("preferences")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="default: stdout")
@pass_context
def export_preferences(context: Context, out: Path | None) -> None:
    """Every preference as CSV (SPEC section 7), streamed."""
    with context.factory.begin() as session:
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
@click.option("--role", type=click.Choice(ROLES), required=True)
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


@cli.group()
def tokens() -> None:
    """API bearer tokens."""


@tokens.command("create")
@click.argument("username")
@pass_context
def tokens_create(context: Context, username: str) -> None:
    """Create an API token for the user; the token is printed alone on the last line."""
    with context.factory.begin() as session:
        token = create_token(session, username)
    click.echo(f"token for {username} (shown once; keep it secret):", err=True)
    click.echo(token)


@cli.command()
@click.option("--students", type=click.IntRange(min=1), required=True)
@click.option("--seed", type=int, default=1, show_default=True)
@pass_context
def seed(context: Context, students: int, seed: int) -> None:
    """Load a synthetic district of about N students."""
    with context.factory.begin() as session:
        summary = load_demo(session, students=students, seed=seed)
    _echo_summary(summary)


def _echo_summary(summary: ImportSummary) -> None:
    for file_name, field in FILE_FIELDS.items():
        counts = getattr(summary, field)
        click.echo(
            f"{file_name}: {counts.inserted} new, {counts.updated} updated, "
            f"{counts.unchanged} unchanged"
        )
