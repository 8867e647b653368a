"""`cpb import csv PATH` and `cpb import oneroster PATH`: synchronous imports for scripts.

PATH is a folder or a zip. The import is all or nothing for structure (every problem is printed,
`file:line: column: what is wrong`, and the exit status is 1); quarantined addresses and skipped
rows are printed after the counts, and do not stop it.
"""

from datetime import datetime
from pathlib import Path

import click

from cli.commands import Context, cli, pass_context
from shared.access.audit import record_audit
from shared.core.vocabulary import ImportFormat
from shared.imports.runner import ImportReport, run_import

PATH = click.Path(exists=True, path_type=Path)


@cli.group("import")
def import_group() -> None:
    """Load district data."""


@import_group.command("csv")
@click.argument("path", type=PATH)
@pass_context
def import_csv(context: Context, path: Path) -> None:
    """Import a native CSV bundle: a folder, or a zip of one."""
    _import(context, ImportFormat.NATIVE, path)


@import_group.command("oneroster")
@click.argument("path", type=PATH)
@pass_context
def import_oneroster(context: Context, path: Path) -> None:
    """Import a OneRoster 1.1 or 1.2 CSV bundle: a folder, or a zip of one."""
    _import(context, ImportFormat.ONEROSTER, path)


def _import(context: Context, fmt: ImportFormat, path: Path) -> None:
    today = datetime.now(context.settings.zone).date()
    with context.factory.begin() as session:
        report = run_import(session, fmt, path, today=today)
        record_audit(
            session,
            username=None,
            action="import.csv" if fmt == ImportFormat.NATIVE else "import.oneroster",
            subject=str(path),
            detail={
                "files": report.files_json(),
                "quarantined": report.quarantined,
                "skipped": report.skipped,
            },
        )
    echo_report(report)


def echo_report(report: ImportReport) -> None:
    for name, counts in report.files.items():
        ended = f", {counts.ended} ended" if counts.ended else ""
        click.echo(
            f"{name}: {counts.added} new, {counts.updated} updated, "
            f"{counts.unchanged} unchanged{ended}"
        )
    for finding in report.findings:
        click.echo(f"{finding.kind}: {finding}")
