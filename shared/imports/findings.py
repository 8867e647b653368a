"""What an import reports beside its counts: quarantined addresses, skipped rows and cleaned
names.

Neither stops an import. A quarantined address is imported as no address (a good stored one
stays) and listed as `file:line: column: value: why`; a skipped row is one the import left out
for a reason it names (a preference row whose address was quarantined; an agent entry of a
OneRoster user naming no user in the bundle).
"""

from dataclasses import dataclass, field
from enum import StrEnum

from shared.imports.native.addresses import hidden_character


class FindingKind(StrEnum):
    QUARANTINED = "quarantined"
    SKIPPED = "skipped"
    CLEANED = "cleaned"  # a name's control or bidi-override characters removed, the row kept


@dataclass(frozen=True)
class Subject:
    """The person or household an address belongs to, and the channel."""

    type: str  # "person" or "household"
    ext_id: str
    channel: str


@dataclass(frozen=True)
class Finding:
    kind: FindingKind
    file: str
    line: int
    column: str
    value: str
    why: str
    subject: Subject | None = None

    @property
    def shown_value(self) -> str:
        return shown(self.value)

    def __str__(self) -> str:
        value = f"{self.shown_value}: " if self.value else ""
        return f"{self.file}:{self.line}: {self.column}: {value}{self.why}"


def shown(value: str) -> str:
    """The value with its control and bidi-override characters written as `\\uXXXX`, so that
    a report shows what the cell held instead of being rearranged or cut by it."""
    if hidden_character(value) is None:
        return value
    return "".join(f"\\u{ord(c):04x}" if hidden_character(c) is not None else c for c in value)


@dataclass
class Findings:
    """Collected while an import reads; `sorted()` in file, line and column order."""

    files: tuple[str, ...] = ()  # the order of the files, for sorting
    _found: list[Finding] = field(default_factory=list)

    def add(self, finding: Finding) -> None:
        self._found.append(finding)

    def __len__(self) -> int:
        return len(self._found)

    def sorted(self) -> list[Finding]:
        order = {name: n for n, name in enumerate(self.files)}
        return sorted(self._found, key=lambda f: (order.get(f.file, len(order)), f.file, f.line))
