"""Import jobs as `GET /api/v1/imports[/<id>]` shows them and the pages render them, and the
rows of their quarantine report."""

from collections.abc import Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.core.contract import Moment, View
from shared.core.errors import NotFound
from shared.core.vocabulary import BatchStatus, ImportFormat
from shared.models import Batch, ImportFinding, ImportJob, User


class ImportProgress(View):
    """Files and rows read so far."""

    files: int
    rows: int


class FileCountsView(View):
    added: int
    updated: int
    unchanged: int
    ended: int


class ImportReportView(View):
    files: dict[str, FileCountsView]
    quarantined: int  # addresses imported as no address (listed in quarantine.csv)
    skipped: int  # rows left out: preference rows on a quarantined address, agents unknown
    errors: list[str]  # the structural problems that stopped it: nothing was written


class ImportView(View):
    id: int
    format: ImportFormat
    status: BatchStatus
    filename: str
    size: int
    version: str | None  # OneRoster's
    submitted_by: str | None
    submitted_at: Moment
    started_at: Moment | None
    finished_at: Moment | None
    progress: ImportProgress
    report: ImportReportView | None  # None until it has finished


def import_view(session: Session, import_id: int) -> ImportView:
    views = import_views(session, ids=[import_id])
    if not views:
        raise NotFound(f"no import {import_id}")
    return views[0]


def import_views(
    session: Session, *, ids: list[int] | None = None, page: int = 1, per_page: int = 50
) -> list[ImportView]:
    """The imports, newest first (or those of `ids`)."""
    query = (
        select(ImportJob, Batch, User.username)
        .join(Batch, Batch.id == ImportJob.batch_id)
        .outerjoin(User, User.id == Batch.submitted_by)
        .order_by(ImportJob.id.desc())
    )
    if ids is not None:
        query = query.where(ImportJob.id.in_(ids))
    else:
        query = query.offset((page - 1) * per_page).limit(per_page)
    return [_view(job, batch, username) for job, batch, username in session.execute(query)]


def count_imports(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ImportJob)) or 0


def _view(job: ImportJob, batch: Batch, username: str | None) -> ImportView:
    finished = batch.status in (BatchStatus.SUCCEEDED, BatchStatus.FAILED)
    return ImportView(
        id=job.id,
        format=ImportFormat(job.format),
        status=batch.status,
        filename=job.filename,
        size=job.size,
        version=job.version,
        submitted_by=username,
        submitted_at=batch.submitted_at,
        started_at=batch.started_at,
        finished_at=batch.finished_at,
        progress=ImportProgress(files=job.files_done, rows=job.rows_done),
        report=ImportReportView(
            files={
                name: FileCountsView.model_validate(counts)
                for name, counts in (job.report or {}).items()
            },
            quarantined=job.quarantined,
            skipped=job.skipped,
            errors=list(job.errors or batch.errors or []),
        )
        if finished
        else None,
    )


def findings(session: Session, import_id: int) -> Iterator[ImportFinding]:
    """The import's quarantined addresses and skipped rows, in report order."""
    yield from session.scalars(
        select(ImportFinding)
        .where(ImportFinding.import_id == import_id)
        .order_by(ImportFinding.seq)
        .execution_options(yield_per=1000)
    )
