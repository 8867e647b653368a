"""The `cpb` console script: the commands of cli/commands.py, and `cpb run`, which starts the
web app, a worker and beat in one process (cli/embedded.py)."""

import logging

import click

from cli import embedded, imports  # noqa: F401  (imports registers `cpb import`)
from cli.commands import Context, cli, pass_context
from shared.core.logs import configure_logging, log_format_of


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--demo-students", default=300, show_default=True, type=click.IntRange(min=1))
@pass_context
def run(context: Context, host: str, port: int, demo_students: int) -> None:
    """Run web, worker and scheduler in one process (the embedded default without services);
    an empty database gets a demo district and a login first."""
    embedded.run(context.settings, host, port, demo_students)


def main() -> None:
    # Warnings and errors, on stderr in CPB_LOG_FORMAT (`cpb run`'s worker sets the same).
    configure_logging(log_format_of(), level=logging.WARNING)
    cli()
