"""Reading and checking a whole bundle before anything is written: all or nothing."""

from collections import defaultdict
from pathlib import Path

from sqlalchemy.orm import Session

from shared.csv_import import preference_rows
from shared.csv_import.formats import ENTITY_TABLES, PEOPLE, PREFERENCES, SPECS
from shared.csv_import.lookup import ids_by_ext_id
from shared.csv_import.reading import FILE, INVALID, ParsedFile, Problems, read_file
from shared.errors import ImportFailed

Files = dict[str, ParsedFile]


def read_bundle(session: Session, directory: Path) -> Files:
    """Every file of the bundle, read and checked; raises ImportFailed with every problem."""
    problems = Problems()
    files: Files = {}
    for spec in SPECS:
        path = directory / spec.name
        if path.is_file():
            files[spec.name] = read_file(path, spec, problems)
        elif spec is PEOPLE:
            problems.add(spec, 0, FILE, f"missing from {directory}; every bundle needs it")
    for parsed in files.values():
        _check_duplicates(parsed, problems)
    defined = _defined_ids(files)
    _check_references(session, files, defined, problems)
    if PREFERENCES.name in files:
        preference_rows.check(session, files, defined, problems)
    if problems:
        raise ImportFailed(problems.sorted())
    return files


def _check_duplicates(parsed: ParsedFile, problems: Problems) -> None:
    spec = parsed.spec
    if not all(column in parsed.present for column in spec.key):
        return
    positions = [parsed.index(column) for column in spec.key]
    first_line: dict[tuple[object, ...], int] = {}
    for row in parsed.rows:
        key = tuple(row.values[p] for p in positions)
        if INVALID in key:
            continue
        first = first_line.setdefault(key, row.line)
        if first != row.line:
            same = ", ".join(spec.key)
            problems.add(spec, row.line, spec.key[0], f"duplicate of line {first} (same {same})")


def _defined_ids(files: Files) -> dict[str, set[str] | None]:
    """The identifiers each entity file defines; None when that is not known (the file could
    not be read to its end, or lacks its identifier column), so that references to it are not
    all reported as unknown because of that one problem."""
    defined: dict[str, set[str] | None] = {}
    for spec in SPECS:
        if spec.defines is None:
            continue
        parsed = files.get(spec.name)
        if parsed is None or (parsed.complete and not parsed.rows):
            defined[spec.defines] = set()
        elif not parsed.complete or spec.key[0] not in parsed.present:
            defined[spec.defines] = None
        else:
            at = parsed.index(spec.key[0])
            defined[spec.defines] = {r.values[at] for r in parsed.rows} - {INVALID, None}
    return defined


def _check_references(
    session: Session, files: Files, defined: dict[str, set[str] | None], problems: Problems
) -> None:
    """References must name an entity of the bundle or one already in the database."""
    wanted: dict[str, dict[str, list[tuple[ParsedFile, int, str]]]] = defaultdict(dict)
    for parsed in files.values():
        for at, fld in enumerate(parsed.spec.fields):
            if fld.ref is None or fld.column not in parsed.present:
                continue
            in_bundle = defined[fld.ref]
            if in_bundle is None:
                continue
            for row in parsed.rows:
                value = row.values[at]
                if value not in (None, INVALID) and value not in in_bundle:
                    places = wanted[fld.ref].setdefault(value, [])
                    places.append((parsed, row.line, fld.column))
    for entity, places_by_id in wanted.items():
        known = ids_by_ext_id(session, ENTITY_TABLES[entity], places_by_id.keys())
        for ext_id, places in places_by_id.items():
            if ext_id not in known:
                for parsed, line, column in places:
                    problems.add(parsed.spec, line, column, f"unknown {entity} {ext_id!r}")
