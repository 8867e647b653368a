from pathlib import Path

from sqlalchemy.orm import Session

from shared.csv_import.summary import ImportSummary
from shared.csv_import.validate import read_bundle
from shared.csv_import.writing import write_bundle


def import_bundle(session: Session, directory: Path) -> ImportSummary:
    """Import the bundle in `directory` within the caller's transaction.

    Raises shared.errors.ImportFailed, having written nothing, when any file or row is bad.
    Entities are upserted by their district identifier and link rows by their natural key;
    rows absent from the files are left alone (see shared.csv_import.writing).
    """
    files = read_bundle(session, Path(directory))
    return write_bundle(session, files)
