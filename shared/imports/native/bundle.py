from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.core.db import is_sqlite
from shared.imports.native.staging import staging_tables
from shared.imports.native.summary import ImportSummary
from shared.imports.native.validate import read_bundle
from shared.imports.native.writing import write_bundle


def import_bundle(session: Session, directory: Path) -> ImportSummary:
    """Import the bundle in `directory` within the caller's transaction.

    Raises shared.core.errors.ImportFailed, having written nothing, when any file or row is bad.
    Entities are upserted by their district identifier and link rows by their natural key;
    rows absent from the files are left alone (see shared.imports.native.writing).
    """
    if not is_sqlite(session):
        # For this transaction only: memory for the joins and index builds of a big import, and
        # no JIT, whose compiling costs more than it saves on these one-pass statements.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        session.execute(text("SET LOCAL jit = off"))
    with staging_tables(session):
        files = read_bundle(session, Path(directory))
        summary = write_bundle(session, files)
    return summary
