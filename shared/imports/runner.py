"""Running one import of either format, from a folder or a zip, in the caller's transaction.

`cpb import csv|oneroster PATH` calls it directly (synchronous, for scripts); an import job
(shared.batches.import_jobs) calls it in a worker. A OneRoster bundle is first translated into
the native bundle (shared.imports.oneroster), which the native import then checks and writes;
what it reports is placed back in the OneRoster files it came from, and links the bundle no
longer holds are ended (shared.imports.ending).
"""

import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Final

from sqlalchemy.orm import Session

from shared.core.vocabulary import ImportFormat
from shared.imports.archive import bundle_folder, unpack
from shared.imports.ending import end_links
from shared.imports.findings import Finding, FindingKind
from shared.imports.native import ImportSummary, import_bundle
from shared.imports.native.summary import FILE_FIELDS
from shared.imports.oneroster import Translation, translate

# An upload or zip may unpack to at most this much, and to at most RATIO times its size.
MAX_UNPACKED: Final = 8 * 2**30
RATIO: Final = 100
MARKERS: Final = {ImportFormat.NATIVE: "people.csv", ImportFormat.ONEROSTER: "manifest.csv"}
_NOTE = re.compile(r"(?P<file>[^:]+):(?P<line>\d+): (?P<column>[^:]+): (?P<why>.*)", re.S)

Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class FileReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    ended: int = 0


@dataclass(frozen=True)
class ImportReport:
    """What an import did: per file of the product's bundle, rows added, updated, unchanged
    and ended; what it quarantined or skipped; the preference rows new addresses got."""

    format: ImportFormat
    files: dict[str, FileReport]
    findings: tuple[Finding, ...]
    preference_rows_created: int
    version: str | None = None  # OneRoster's

    @property
    def quarantined(self) -> int:
        return sum(1 for f in self.findings if f.kind == FindingKind.QUARANTINED)

    @property
    def skipped(self) -> int:
        return sum(1 for f in self.findings if f.kind == FindingKind.SKIPPED)

    @property
    def changed_nothing(self) -> bool:
        return self.preference_rows_created == 0 and not any(
            f.added or f.updated or f.ended for f in self.files.values()
        )

    def files_json(self) -> dict[str, dict[str, int]]:
        return {
            name: {
                "added": f.added,
                "updated": f.updated,
                "unchanged": f.unchanged,
                "ended": f.ended,
            }
            for name, f in self.files.items()
        }


def run_import(
    session: Session,
    fmt: ImportFormat,
    path: Path,
    *,
    today: date,
    label: str = "cpb import",
    progress: Progress | None = None,
) -> ImportReport:
    """Import the bundle at `path` (a folder, or a zip holding one). Raises ImportFailed,
    having written nothing, on any structural problem."""
    with tempfile.TemporaryDirectory(prefix="cpb-import-") as scratch:
        folder = Path(path)
        if folder.is_file():
            folder = unpack(folder, Path(scratch) / "unpacked", max_unpacked=MAX_UNPACKED)
        folder = bundle_folder(folder, MARKERS[fmt])
        if fmt == ImportFormat.NATIVE:
            summary = import_bundle(session, folder, label=label, progress=progress)
            return _report(fmt, summary, {}, ())
        translation = translate(folder, Path(scratch) / "native")
        ended: dict[str, int] = {}

        def end(session: Session) -> None:
            ended.update(
                end_links(
                    session,
                    bulk=translation.bulk,
                    ended_people=translation.ended_people,
                    ended_enrollments=translation.ended_enrollments,
                    ended_assignments=translation.ended_assignments,
                    today=today,
                )
            )

        summary = import_bundle(
            session,
            Path(scratch) / "native",
            label=label,
            progress=progress,
            relabel=_relabel(translation),
            then=end,
        )
        notes = tuple(_note(text) for text in translation.notes)
        return replace(_report(fmt, summary, ended, notes), version=translation.version)


def _report(
    fmt: ImportFormat, summary: ImportSummary, ended: dict[str, int], notes: tuple[Finding, ...]
) -> ImportReport:
    files = {}
    for name, field in FILE_FIELDS.items():
        counts = getattr(summary, field)
        files[name] = FileReport(
            counts.inserted, counts.updated, counts.unchanged, ended.get(name, 0)
        )
    return ImportReport(fmt, files, notes + summary.findings, summary.preference_rows_created)


def _relabel(translation: Translation) -> Callable[[Finding], Finding]:
    def relabel(finding: Finding) -> Finding:
        file, line, column = translation.source_of(finding.file, finding.line, finding.column)
        return replace(finding, file=file, line=line, column=column)

    return relabel


def _note(text: str) -> Finding:
    """A translation's note, `file:line: column: why`, as a skipped row."""
    match = _NOTE.fullmatch(text)
    if match is None:
        return Finding(FindingKind.SKIPPED, "", 0, "", "", text)
    return Finding(
        FindingKind.SKIPPED,
        match["file"],
        int(match["line"]),
        match["column"],
        "",
        match["why"],
    )
