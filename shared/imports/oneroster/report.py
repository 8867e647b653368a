"""Problems and notes of a translation, each `file:line: column: what`, listed the way a reader
fixes them: file by file in the order they are read, then line by line, then column by column
(in the order of the file's own header)."""

from dataclasses import dataclass, field
from typing import Final

# The OneRoster files the translation reads, in the order it reads them: a file refers only to
# files before it.
FILES: Final = (
    "manifest.csv",
    "orgs.csv",
    "academicSessions.csv",
    "users.csv",
    "roles.csv",
    "classes.csv",
    "enrollments.csv",
)
FILE: Final = "(file)"
HEADER: Final = "(header)"
ROW: Final = "(row)"

_ORDER = {name: n for n, name in enumerate(FILES)}


@dataclass
class Report:
    """A list of `file:line: column: message` lines, sorted on the way out."""

    _found: list[tuple[int, int, int, int, str]] = field(default_factory=list)

    def add(self, file: str, line: int, column: str, message: str, order: int = -1) -> None:
        """`order` places the line among those of its file line: the column's position in the
        header; -1 (the default) before every column, for what concerns the whole row."""
        text = f"{file}:{line}: {column}: {message}"
        self._found.append((_ORDER.get(file, len(_ORDER)), line, order, len(self._found), text))

    def __bool__(self) -> bool:
        return bool(self._found)

    def sorted(self) -> list[str]:
        return [found[-1] for found in sorted(self._found)]
