"""Import jobs: an uploaded bundle, checked at once, then imported by a worker in its turn.

The upload is checked before anything is written (its size, and for a zip: paths outside its
folder, links, encryption, what it would unpack to, and that it holds the bundle's first file).
The job gets a row in `batches` (kind `import`): batches and imports take their turns in the one
submission order, so an import runs when the batches before it have finished, and the batches
after it see what it imported. One import at a time: a second while one is queued or running is
a conflict. The pipeline plans an import as one chunk (shared.batches.pipeline.import_chunk).
"""

import tempfile
import zipfile
from datetime import date
from pathlib import Path
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.batches.order import take_submission_turn
from shared.batches.submit import Submitted
from shared.core.errors import Conflict, Forbidden, ImportFailed, InvalidRequest
from shared.core.vocabulary import ACTIVE_STATUSES, BatchKind, BatchStatus, ImportFormat, Role
from shared.imports.archive import check_zip
from shared.imports.runner import MARKERS, MAX_UNPACKED, RATIO
from shared.models import Batch, ImportJob, User

ACTION_SUBMIT: Final = "import.submit"


def submit_import(
    session: Session,
    *,
    fmt: str,
    filename: str,
    data: bytes,
    user: User | None,
    today: date,
    max_bytes: int,
) -> tuple[ImportJob, Submitted]:
    """Check the upload and store the job queued; the plan message is sent after commit."""
    if user is not None and user.role != Role.DISTRICT_ADMIN:
        raise Forbidden("only a district admin may import")
    if fmt not in tuple(ImportFormat):
        raise InvalidRequest("format must be native or oneroster", field="format")
    check_upload(ImportFormat(fmt), data, max_bytes)
    take_submission_turn(session)
    running = session.scalar(
        select(ImportJob.id)
        .join(Batch, Batch.id == ImportJob.batch_id)
        .where(Batch.status.in_(ACTIVE_STATUSES))
        .limit(1)
    )
    if running is not None:
        raise Conflict(f"import {running} is queued or running; wait until it has finished")
    batch = Batch(
        kind=BatchKind.IMPORT,
        status=BatchStatus.QUEUED,
        as_of=today,
        changes={},
        submitted_by=user.id if user else None,
        errors=[],
    )
    session.add(batch)
    session.flush()
    job = ImportJob(
        batch_id=batch.id,
        format=fmt,
        filename=Path(filename).name[:255] or "upload.zip",
        size=len(data),
        upload=data,
        errors=[],
    )
    session.add(job)
    session.flush()
    record_audit(
        session,
        username=user.username if user else None,
        action=ACTION_SUBMIT,
        subject=f"import:{job.id}",
        detail={"format": fmt, "file": job.filename, "bytes": job.size},
    )
    return job, Submitted.new(batch)


def check_upload(fmt: ImportFormat, data: bytes, max_bytes: int) -> None:
    """An upload the import can read, or InvalidRequest (field `file`) saying why not."""
    if not data:
        raise InvalidRequest("the file is empty", field="file")
    if len(data) > max_bytes:
        raise InvalidRequest(
            f"the file is {len(data)} bytes; an upload may be at most {max_bytes} bytes",
            field="file",
        )
    with tempfile.NamedTemporaryFile(suffix=".zip") as upload:
        upload.write(data)
        upload.flush()
        try:
            check_zip(Path(upload.name), max_unpacked=MAX_UNPACKED, max_ratio=RATIO)
        except ImportFailed as failed:
            raise InvalidRequest("; ".join(failed.problems), field="file") from failed
        with zipfile.ZipFile(upload.name) as archive:
            names = [Path(name).name for name in archive.namelist()]
    marker = MARKERS[fmt]
    if marker not in names:
        kind = "a OneRoster bundle" if fmt == ImportFormat.ONEROSTER else "a native bundle"
        raise InvalidRequest(f"the zip holds no {marker}: is it {kind}?", field="file")
