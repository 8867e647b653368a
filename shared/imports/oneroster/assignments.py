"""districtAssignments.csv: a staff role at an org becomes an assignment at that org if it is a
school, or at district level (no school) for any other org. The title is the role as the
OneRoster standard spells it (`teacher`, `siteAdministrator`)."""

from shared.imports.native.formats import DISTRICT_ASSIGNMENTS
from shared.imports.oneroster.orgs import Orgs
from shared.imports.oneroster.output import Output


class Assignments:
    """Writes each assignment once: the native file's key is person, school, title and start
    date, and two orgs that are not schools (two districts, say) both give no school."""

    def __init__(self, output: Output, orgs: Orgs) -> None:
        self._file = output.open(DISTRICT_ASSIGNMENTS)
        self._orgs = orgs
        self._seen: set[tuple[str, str, str, str]] = set()
        # (personId, schoolId or "", title) of staff roles marked tobedeleted in a delta file
        self.ended: list[tuple[str, str, str]] = []

    def add(self, person_id: str, org: int, title: str, start: str, end: str) -> None:
        school = self._orgs.ids[org] if self._orgs.school[org] else ""
        key = (person_id, school, title, start)
        if key not in self._seen:
            self._seen.add(key)
            self._file.write((person_id, school, title, start, end))

    def end(self, person_id: str, org: int, title: str) -> None:
        school = self._orgs.ids[org] if self._orgs.school[org] else ""
        self.ended.append((person_id, school, title))
