"""`translate(source, target)`: a OneRoster 1.1 or 1.2 CSV bundle (an unpacked folder) into the
product's native CSV bundle (a folder), which the native import then reads. docs/oneroster.md
says what each OneRoster file and column becomes.

Every problem is reported at once, as `file:line: column: what is wrong` (lines and columns of
the OneRoster files), and then nothing usable is left in the target. The files are streamed:
what is held is a few bytes per user and one int per student and calendar.
"""

from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from shared.core.errors import ImportFailed
from shared.imports.oneroster import classes, enrollments, orgs, roles, sessions, users
from shared.imports.oneroster.assignments import Assignments
from shared.imports.oneroster.households import write_households
from shared.imports.oneroster.manifest import Manifest, read_manifest
from shared.imports.oneroster.output import Output
from shared.imports.oneroster.people import write_people
from shared.imports.oneroster.report import FILE, Report
from shared.imports.oneroster.source import Source

# Where each people.csv column comes from in users.csv.
_PEOPLE_SOURCES: Final = {
    "personId": "sourcedId",
    "firstName": "givenName",
    "lastName": "familyName",
    "studentNumber": "identifier",
    "staffNumber": "identifier",
    "homePhone": "phone",
    "cellPhone": "sms",
    "email": "email",
}
_USERS_COVER: Final = ("people.csv", "relationships.csv", "householdMembers.csv")


@dataclass(frozen=True)
class Translation:
    version: str  # "1.1" or "1.2"
    # The native files whose rows are the full state of what they cover (from bulk files): the
    # caller ends the links of users such a file no longer holds.
    bulk: frozenset[str]
    ended_people: tuple[str, ...]  # users marked tobedeleted in a delta file
    # (personId, calendarId) of student enrollments marked tobedeleted in a delta file, but for
    # those that an active class enrollment in the bundle still keeps.
    ended_enrollments: tuple[tuple[str, str], ...]
    notes: tuple[str, ...]  # agent entries skipped, `file:line: column: ...; skipped`, sorted
    # (personId, schoolId or "", title) of staff roles marked tobedeleted in a delta roles.csv
    ended_assignments: tuple[tuple[str, str, str], ...] = ()
    people_lines: "array[int]" = field(
        default_factory=lambda: array("l"), repr=False, compare=False
    )

    def source_of(self, native_file: str, native_line: int, column: str) -> tuple[str, int, str]:
        """Where a cell of the written native bundle came from: for a people.csv line, the
        users.csv line and the column the cell was taken from (a column taken from none, like
        `(row)`, stays as it is); anything else is returned unchanged."""
        at = native_line - 2  # people_lines starts with the line after the header
        if native_file == "people.csv" and 0 <= at < len(self.people_lines):
            return users.NAME, self.people_lines[at], _PEOPLE_SOURCES.get(column, column)
        return native_file, native_line, column


def translate(source: Path, target: Path) -> Translation:
    """Raises ImportFailed with every problem, sorted by file, line and column."""
    report = Report()
    manifest = read_manifest(source, report)
    if manifest is None:
        raise ImportFailed(report.sorted())
    output = Output(target)
    try:
        translation = _translate(source, manifest, output, report)
    except BaseException:
        output.discard()
        raise
    if report:
        output.discard()
        raise ImportFailed(report.sorted())
    output.close()
    return translation


def _translate(folder: Path, manifest: Manifest, output: Output, report: Report) -> Translation:
    def reading(name: str, columns: tuple[str, ...]) -> Source | None:
        return Source(folder / name, columns, report) if name in manifest.modes else None

    version = manifest.version
    the_orgs = orgs.read_orgs(reading(orgs.NAME, orgs.COLUMNS), output)
    sessions_source = reading(sessions.NAME, sessions.COLUMNS)
    the_sessions = sessions.read_sessions(sessions_source)
    if sessions_source is not None:
        sessions.write_calendars(output, the_orgs, the_sessions, sessions_source)
    users_source = reading(users.NAME, users.COLUMNS[version])
    roles_source = reading(roles.NAME, roles.COLUMNS)
    assignments = None
    if (version == "1.1" and users_source is not None) or roles_source is not None:
        assignments = Assignments(output, the_orgs)
    the_users = users.read_users(
        users_source, version, manifest.delta(users.NAME), the_orgs, assignments
    )
    if roles_source is not None and assignments is not None:
        roles.read_roles(roles_source, the_users, the_orgs, assignments, manifest.delta(roles.NAME))
    elif users_source is not None and version == "1.2":
        message = "a OneRoster 1.2 users.csv needs roles.csv beside it: the roles are there"
        report.add(users.NAME, 1, FILE, message)
    the_classes = classes.read_classes(
        reading(classes.NAME, classes.COLUMNS), the_orgs, the_sessions
    )
    ended_enrollments: tuple[tuple[str, str], ...] = ()
    enrollments_source = reading(enrollments.NAME, enrollments.COLUMNS)
    if enrollments_source is not None:
        enrolled = enrollments.read_enrollments(
            enrollments_source,
            manifest.delta(enrollments.NAME),
            the_users,
            the_orgs,
            the_sessions,
            the_classes,
        )
        ended_enrollments = enrollments.write_enrollments(
            output, enrolled, the_users, the_orgs, the_sessions
        )
    notes = Report()
    people_lines: array[int] = array("l")
    if users_source is not None:
        written = write_people(users_source, the_users, output, notes)
        write_households(users_source, the_users, written, output)
        people_lines = written.people_lines
    return Translation(
        version=version,
        bulk=_bulk(manifest),
        ended_people=tuple(the_users.ended),
        ended_enrollments=ended_enrollments,
        notes=tuple(notes.sorted()),
        ended_assignments=tuple(assignments.ended) if assignments is not None else (),
        people_lines=people_lines,
    )


def _bulk(manifest: Manifest) -> frozenset[str]:
    """Users in bulk cover people, relationships and household members, and the assignments
    too where the roles come from users.csv (1.1) or from roles.csv in bulk (1.2)."""
    covered: set[str] = set()
    if manifest.modes.get(users.NAME) == "bulk":
        covered.update(_USERS_COVER)
        if manifest.version == "1.1" or manifest.modes.get(roles.NAME) == "bulk":
            covered.add("districtAssignments.csv")
    if manifest.modes.get(enrollments.NAME) == "bulk":
        covered.add("enrollments.csv")
    return frozenset(covered)
