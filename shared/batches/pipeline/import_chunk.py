"""An import job's one chunk: the import itself, in the chunk's transaction.

A structural problem leaves nothing written (the import runs in a savepoint that is rolled
back) and is recorded on the job, which the finalize turns into a failed status. Progress (files
and rows read) is written in transactions of its own as each file is read, so the report page
moves while the import runs; on SQLite, whose one writer is the import, it is written at the end.
"""

import tempfile
from datetime import datetime
from pathlib import Path

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from shared.access.audit import record_audit
from shared.core.db import is_sqlite
from shared.core.errors import ImportFailed
from shared.core.vocabulary import ImportFormat
from shared.imports.runner import ImportReport, run_import
from shared.models import Batch, ImportFinding, ImportJob, User

FINDINGS_PER_INSERT = 5000


def run_import_chunk(session: Session, batch: Batch, now: datetime) -> None:
    job = session.scalar(select(ImportJob).where(ImportJob.batch_id == batch.id))
    if job is None or job.upload is None:
        return
    done = {"files": 0, "rows": 0}
    live = not is_sqlite(session)
    bind = session.get_bind()

    def progress(name: str, rows: int) -> None:
        done["files"] += 1
        done["rows"] += rows
        if live:
            with Session(bind) as own, own.begin():
                own.execute(
                    update(ImportJob)
                    .where(ImportJob.id == job.id)
                    .values(files_done=done["files"], rows_done=done["rows"])
                )

    with tempfile.NamedTemporaryFile(suffix=".zip") as upload:
        upload.write(job.upload)
        upload.flush()
        savepoint = session.begin_nested()
        try:
            report = run_import(
                session,
                ImportFormat(job.format),
                Path(upload.name),
                today=batch.as_of,
                label=f"import {job.id}",
                progress=progress,
            )
        except ImportFailed as failed:
            savepoint.rollback()
            job.errors = list(failed.problems)
            report = None
        else:
            savepoint.commit()
    job.files_done, job.rows_done = done["files"], done["rows"]
    job.upload = None
    if report is not None:
        _record(session, job, report)
    submitter = session.get(User, batch.submitted_by) if batch.submitted_by else None
    record_audit(
        session,
        username=submitter.username if submitter else None,
        action="import.failed" if job.errors else "import.succeeded",
        subject=f"import:{job.id}",
        detail={"errors": len(job.errors), "quarantined": job.quarantined},
    )


def _record(session: Session, job: ImportJob, report: ImportReport) -> None:
    job.report = report.files_json()
    job.quarantined = report.quarantined
    job.skipped = report.skipped
    job.version = report.version
    rows = [
        {
            "import_id": job.id,
            "seq": seq,
            "kind": str(finding.kind),
            "file": finding.file[:64],
            "line": finding.line,
            "column": finding.column[:64],
            "value": finding.shown_value,
            "why": finding.why,
        }
        for seq, finding in enumerate(report.findings)
    ]
    for start in range(0, len(rows), FINDINGS_PER_INSERT):
        session.execute(insert(ImportFinding), rows[start : start + FINDINGS_PER_INSERT])
