"""What an import did, per file."""

from dataclasses import asdict, dataclass, field, replace

from shared.imports.findings import Finding


@dataclass(frozen=True)
class FileCounts:
    """Rows of one file: new, changed in place, or already as the file says."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ImportSummary:
    schools: FileCounts = field(default_factory=FileCounts)
    calendars: FileCounts = field(default_factory=FileCounts)
    people: FileCounts = field(default_factory=FileCounts)
    households: FileCounts = field(default_factory=FileCounts)
    household_members: FileCounts = field(default_factory=FileCounts)
    enrollments: FileCounts = field(default_factory=FileCounts)
    relationships: FileCounts = field(default_factory=FileCounts)
    district_assignments: FileCounts = field(default_factory=FileCounts)
    preferences: FileCounts = field(default_factory=FileCounts)
    # Preference rows created (all off, set by default) for addresses that had none, whether
    # or not preferences.csv names them.
    preference_rows_created: int = 0
    # Quarantined addresses and skipped rows, in file and line order.
    findings: tuple[Finding, ...] = ()

    def with_findings(self, findings: list[Finding]) -> "ImportSummary":
        return replace(self, findings=tuple(findings))

    @property
    def changed_nothing(self) -> bool:
        counts = [getattr(self, name) for name in FILE_FIELDS.values()]
        return self.preference_rows_created == 0 and not any(
            c.inserted or c.updated for c in counts
        )

    def as_dict(self) -> dict[str, object]:
        counts = asdict(self)
        counts["findings"] = [str(finding) for finding in self.findings]
        return counts


# The summary field of each file of the bundle.
FILE_FIELDS = {
    "schools.csv": "schools",
    "calendars.csv": "calendars",
    "people.csv": "people",
    "households.csv": "households",
    "householdMembers.csv": "household_members",
    "enrollments.csv": "enrollments",
    "relationships.csv": "relationships",
    "districtAssignments.csv": "district_assignments",
    "preferences.csv": "preferences",
}
