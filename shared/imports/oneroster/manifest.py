"""manifest.csv: which OneRoster version the bundle is, and how each file the translation
reads is given: `bulk` (the full state of what it covers), `delta` (changes only) or `absent`.

Files the translation does not read (courses, demographics, lineItems, results, resources,
categories, userProfiles, ...) are never looked at, whatever the manifest says of them.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from shared.imports.oneroster.report import FILE, Report
from shared.imports.oneroster.source import Source

NAME: Final = "manifest.csv"
VERSIONS: Final = ("1.1", "1.2")
READ: Final = {
    "1.1": ("orgs.csv", "academicSessions.csv", "users.csv", "classes.csv", "enrollments.csv"),
    "1.2": (
        "orgs.csv",
        "academicSessions.csv",
        "users.csv",
        "roles.csv",
        "classes.csv",
        "enrollments.csv",
    ),
}
_IN_BUNDLE: Final = ("bulk", "delta")


@dataclass(frozen=True)
class Manifest:
    version: str
    modes: dict[str, str]  # each file read that is in the bundle: "bulk" or "delta"

    def delta(self, file: str) -> bool:
        return self.modes.get(file) == "delta"


def read_manifest(folder: Path, report: Report) -> Manifest | None:
    """The manifest, or None when it leaves the version unknown (every problem reported): the
    version says which columns the other files have, so nothing else can be read."""
    path = folder / NAME
    if not path.is_file():
        report.add(NAME, 1, FILE, "not in the bundle; every OneRoster bundle has one")
        return None
    source = Source(path, ("propertyName", "value"), report)
    properties: dict[str, tuple[str, int]] = {}
    for line, (name, value) in source.rows():
        if name in properties:
            source.problem(line, "propertyName", f"{name!r} is also on line {properties[name][1]}")
        else:
            properties[name] = (value, line)
    if not source.complete:
        return None
    version = _version(source, properties)
    if version is None:
        return None
    modes: dict[str, str] = {}
    for file in READ[version]:
        key = "file." + file.removesuffix(".csv")
        value, line = properties.get(key, ("absent", 1))
        mode = value.lower()
        there = (folder / file).is_file()
        if mode not in (*_IN_BUNDLE, "absent"):
            source.problem(line, "value", f"{key} is {value!r}, not bulk, delta or absent")
        elif mode in _IN_BUNDLE and not there:
            source.problem(line, "value", f"{key} is {mode}, but {file} is not in the bundle")
        elif mode == "absent" and there:
            source.problem(line, "value", f"{key} is absent, but {file} is in the bundle")
        if there:
            modes[file] = mode if mode in _IN_BUNDLE else "bulk"
    if version == "1.2" and modes.get("users.csv") == "bulk" and modes.get("roles.csv") == "delta":
        # A user's roles say who they are (student, parent, staff); a bulk users.csv read with
        # only some of its roles would take the rest away.
        source.problem(
            properties.get("file.roles", ("", 1))[1],
            "value",
            "file.roles is delta, but file.users is bulk: a bulk users.csv needs every role, "
            "so roles.csv must be bulk too",
        )
    return Manifest(version, modes)


def _version(source: Source, properties: dict[str, tuple[str, int]]) -> str | None:
    if "oneroster.version" not in properties:
        source.problem(1, "propertyName", "oneroster.version is missing")
        return None
    value, line = properties["oneroster.version"]
    if value not in VERSIONS:
        source.problem(line, "value", f"oneroster.version is {value!r}; only 1.1 and 1.2 are read")
        return None
    return value
