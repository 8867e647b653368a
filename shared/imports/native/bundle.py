from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite
from shared.imports.findings import Finding, Findings
from shared.imports.native import quarantine_rows
from shared.imports.native.formats import SPECS
from shared.imports.native.staging import staging_tables
from shared.imports.native.summary import ImportSummary
from shared.imports.native.validate import read_bundle
from shared.imports.native.writing import write_bundle

Progress = Callable[[str, int], None]


def import_bundle(
    session: Session,
    directory: Path,
    *,
    label: str = "cpb import",
    progress: Progress | None = None,
    relabel: Callable[[Finding], Finding] | None = None,
    then: Callable[[Session], None] | None = None,
) -> ImportSummary:
    """Import the bundle in `directory` within the caller's transaction.

    Raises shared.core.errors.ImportFailed, having written nothing, when any file or row is bad.
    Entities are upserted by their district identifier and link rows by their natural key;
    rows absent from the files are left alone (see shared.imports.native.writing). Addresses
    that fail their check are quarantined: imported as no address (a stored one stays), and
    reported in the summary's findings, with the rows of preferences.csv that they leave out.

    `label` names the import in the quarantine's record; `progress(file, rows)` follows the
    reading; `relabel` says where a finding came from when the bundle was made from another
    format; `then(session)` runs after the writes, while the staging tables are still there.
    """
    if not is_sqlite(session):
        # For this transaction only: memory for the joins and index builds of a big import, and
        # no JIT, whose compiling costs more than it saves on these one-pass statements.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        session.execute(text("SET LOCAL jit = off"))
    findings = Findings(files=tuple(spec.name for spec in SPECS))
    with staging_tables(session):
        files = read_bundle(session, Path(directory), findings, progress)
        summary = write_bundle(session, files)
        found = [relabel(f) if relabel else f for f in findings.sorted()]
        quarantine_rows.record(session, files, found, label, datetime.now(UTC))
        if then is not None:
            then(session)
    return summary.with_findings(found)
