"""Reading and checking a whole bundle before anything is written: all or nothing.

Each file is read once, row by row, into its staging table (shared.imports.native.staging). On the
way each row's references are looked up in the identifiers of the files before it, and its key
in those of the rows before it; a repeated key is only suspected there (by its hash) and then
confirmed and placed by SQL. References that the bundle does not define are looked up in the
database at the end, and preferences.csv is checked against the addresses by SQL.
"""

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from shared.core.errors import ImportFailed
from shared.imports.findings import Findings
from shared.imports.native import preference_check
from shared.imports.native.formats import ENTITY_TABLES, PEOPLE, PREFERENCES, SPECS, FileSpec
from shared.imports.native.plain_lines import pick
from shared.imports.native.queries import chunked, existing_ext_ids
from shared.imports.native.reading import FILE, CsvFile, Problems
from shared.imports.native.staging import stage_rows, staging

Place = tuple[FileSpec, int, str]  # file, line, column
Unknown = dict[str, dict[str, list[Place]]]  # entity -> identifier -> where it is named
Defined = dict[str, set[str] | None]  # entity -> the identifiers the bundle defines


@dataclass(frozen=True)
class StagedFile:
    spec: FileSpec
    rows: int
    present: frozenset[str]  # the spec's columns that the header has


Bundle = dict[str, StagedFile]


def read_bundle(
    session: Session,
    directory: Path,
    findings: Findings,
    progress: Callable[[str, int], None] | None = None,
) -> Bundle:
    """Every file of the bundle staged and checked; raises ImportFailed with every problem.
    Quarantined addresses and skipped rows go to `findings`; `progress(file, rows)` is called
    as each file has been read."""
    problems = Problems()
    files: Bundle = {}
    defined: Defined = {entity: set() for entity in ENTITY_TABLES}
    unknown: Unknown = defaultdict(lambda: defaultdict(list))
    for spec in SPECS:
        path = directory / spec.name
        if path.is_file():
            csv_file = CsvFile(path, spec, problems, findings)
            files[spec.name] = _read(session, csv_file, defined, unknown)
            if progress is not None:
                progress(spec.name, files[spec.name].rows)
        elif spec is PEOPLE:
            problems.add(spec, 0, FILE, f"missing from {directory}; every bundle needs it")
    _report_unknown(session, unknown, problems)
    if PREFERENCES.name in files:
        skipped = preference_check.check(session, files, defined, problems, findings)
        staged = files[PREFERENCES.name]
        files[PREFERENCES.name] = replace(staged, rows=staged.rows - skipped)
    if problems:
        raise ImportFailed(problems.sorted())
    return files


def _read(session: Session, csv_file: CsvFile, defined: Defined, unknown: Unknown) -> StagedFile:
    spec = csv_file.spec
    checks = _RowChecks(spec, defined, unknown)
    rows = 0
    with stage_rows(session, spec) as stage:
        for line, bad, cells, csv_line in csv_file.rows():
            stage(line, bad, cells, csv_line)
            checks.see(line, bad, cells)
            rows += 1
    if checks.repeated:
        _report_duplicates(session, spec, csv_file.problems)
    if spec.defines:
        # Unknown when the file could not be read to its end or lacks its identifier column:
        # references to it are then not all reported as unknown because of that one problem.
        known = csv_file.complete and (rows == 0 or spec.key[0] in csv_file.present)
        defined[spec.defines] = checks.ids if known else None
    return StagedFile(spec, rows, csv_file.present)


class _RowChecks:
    """What each row says about the rows before it: its key repeats one, or it refers to an
    identifier that no file before it defines. Unreadable cells take no part."""

    def __init__(self, spec: FileSpec, defined: Defined, unknown: Unknown) -> None:
        self.spec = spec
        self.ids: set[str] = set()  # what an entity file defines: the keys it has seen
        self.repeated = False  # a key seen twice, or two keys with the same hash
        self._hashes: set[int] = set()  # of the keys of any other file
        positions = [spec.columns.index(column) for column in spec.key]
        self._key_bits = sum(1 << k for k in positions)
        self._key = pick(positions)
        self._id_at = positions[0] if spec.defines else None
        self._refs = [
            (k, fld.ref, fld.column, known)
            for k, fld in enumerate(spec.fields)
            if fld.ref is not None and (known := defined[fld.ref]) is not None
        ]
        self._unknown = unknown

    def see(self, line: int, bad: int, cells: list[str]) -> None:
        if not bad & self._key_bits:
            if self._id_at is None:
                before = len(self._hashes)
                self._hashes.add(hash(self._key(cells)))
                self.repeated |= len(self._hashes) == before
            else:
                before = len(self.ids)
                self.ids.add(cells[self._id_at])
                self.repeated |= len(self.ids) == before
        for k, entity, column, known in self._refs:
            value = cells[k]
            if value not in known and value and not bad >> k & 1:
                self._unknown[entity][value].append((self.spec, line, column))


def _report_duplicates(session: Session, spec: FileSpec, problems: Problems) -> None:
    """Each row whose key is that of an earlier row; an empty cell of the key is a value like any
    other. The later rows of an entity's identifier then leave the staging table, so that its
    first row stands for it (in the preference check)."""
    stage = staging(spec)
    key = [stage.c[column] for column in spec.key]
    readable = stage.c.bad.bitwise_and(sum(1 << spec.columns.index(c) for c in spec.key)) == 0
    groups = (
        select(*key, func.min(stage.c.line).label("first"))
        .where(readable)
        .group_by(*key)
        .having(func.count() > 1)
        .subquery()
    )
    same = and_(
        *(
            column == groups.c[column.name]
            if spec.field(column.name).required
            else column.is_not_distinct_from(groups.c[column.name])
            for column in key
        )
    )
    found = session.execute(
        select(stage.c.line, groups.c.first)
        .join(groups, same)
        .where(readable, stage.c.line != groups.c.first)
    ).all()
    for line, first in found:
        problems.add(
            spec, line, spec.key[0], f"duplicate of line {first} (same {', '.join(spec.key)})"
        )
    if spec.defines:
        for lines in chunked(line for line, _ in found):
            session.execute(delete(stage).where(stage.c.line.in_(lines)))


def _report_unknown(session: Session, unknown: Unknown, problems: Problems) -> None:
    """References to identifiers that are neither in the bundle nor in the database."""
    for entity, places_by_id in unknown.items():
        known: Collection[str] = existing_ext_ids(session, ENTITY_TABLES[entity], places_by_id)
        for ext_id, places in places_by_id.items():
            if ext_id not in known:
                for spec, line, column in places:
                    problems.add(spec, line, column, f"unknown {entity} {ext_id!r}")
