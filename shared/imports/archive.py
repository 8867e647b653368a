"""Zip bundles, opened with suspicion: an uploaded or command-line bundle may be a zip file made
by anyone, so nothing in it is unpacked before its central directory has been read and found
harmless, and the unpacking itself counts what it writes rather than trusting declared sizes.

`check_zip` refuses, every problem at once: a file that is not a zip; entries whose path could
land outside the target folder (absolute, a drive letter, `..`, backslashes), that are symbolic
links, or that share a name; encrypted entries; compression this Python cannot read; more than
`MAX_ENTRIES` entries; and an unpacked total over a byte limit or over `max_ratio` times the
zip's own size (a zip bomb). `unpack` checks, then writes regular files only, stopping as soon
as the bytes really written pass either limit. `bundle_folder` finds the folder of an unpacked
bundle, since zips often wrap their files in one folder (and macOS adds `__MACOSX`).
"""

import lzma
import os
import re
import stat
import zipfile
import zlib
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import IO

from shared.core.errors import ImportFailed

MAX_ENTRIES = 1000
CHUNK = 1 << 16
READABLE = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
SKIPPED_FOLDERS = {"__MACOSX"}  # and any folder whose name starts with a dot
_DRIVE = re.compile(r"^[A-Za-z]:")
# Opening a file to write: never through an existing file or symbolic link.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)


def check_zip(path: Path, *, max_unpacked: int, max_ratio: int = 100) -> None:
    """Refuse the zip at `path` unless every entry of its central directory is harmless; reads
    no entry's content."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, EOFError):
        raise ImportFailed(["the file is not a zip file"]) from None
    if len(entries) > MAX_ENTRIES:
        raise ImportFailed([f"the zip has {len(entries)} entries, over the limit of {MAX_ENTRIES}"])
    problems = [problem for entry in entries for problem in _entry_problems(entry)]
    names = Counter(entry.filename.rstrip("/") for entry in entries)
    problems += [f"zip entry '{name}' appears {n} times" for name, n in names.items() if n > 1]
    total = sum(entry.file_size for entry in entries)
    if total > max_unpacked:
        problems.append(
            f"the zip would unpack to {total} bytes, over the limit of {max_unpacked} bytes"
        )
    if total > max_ratio * path.stat().st_size:
        problems.append(f"the zip would unpack to {total} bytes, over {max_ratio} times its size")
    if problems:
        raise ImportFailed(problems)


def unpack(path: Path, target: Path, *, max_unpacked: int, max_ratio: int = 100) -> Path:
    """Check the zip, then unpack it into `target` (created if missing) and return `target`.

    On a refusal `target` may hold part of the zip: unpack into a folder of your own and throw
    it away."""
    check_zip(path, max_unpacked=max_unpacked, max_ratio=max_ratio)
    budget = _Budget(max_unpacked, max_ratio, path.stat().st_size)
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    with zipfile.ZipFile(path) as archive:
        for entry in archive.infolist():
            destination = root.joinpath(*PurePosixPath(entry.filename).parts)
            if root not in (destination, *destination.parents):
                raise ImportFailed([f"zip entry '{entry.filename}' leaves the folder"])
            if entry.is_dir():
                _make_folder(destination, entry.filename)
                continue
            _make_folder(destination.parent, entry.filename)
            with archive.open(entry) as source:
                _write(source, destination, entry.filename, budget)
    return target


def bundle_folder(folder: Path, marker: str) -> Path:
    """The folder that holds the bundle: `folder` itself when `marker` (a file every bundle has,
    e.g. `people.csv`) is in it, else the one folder below it that has the marker."""
    if (folder / marker).is_file():
        return folder
    found = []
    for parent, subfolders, files in os.walk(folder):
        subfolders[:] = sorted(
            name for name in subfolders if name not in SKIPPED_FOLDERS and not name.startswith(".")
        )
        if marker in files and Path(parent) != folder:
            found.append(Path(parent))
    if not found:
        raise ImportFailed([f"no {marker} in the bundle"])
    if len(found) > 1:
        names = ", ".join(path.relative_to(folder).as_posix() for path in found)
        raise ImportFailed([f"{marker} is in several folders of the bundle: {names}"])
    return found[0]


def _entry_problems(entry: zipfile.ZipInfo) -> list[str]:
    name = entry.filename
    checks = (
        (name.startswith("/"), "has an absolute path"),
        (bool(_DRIVE.match(name)), "has a drive letter"),
        ("\\" in name, "has a backslash in its path"),
        (".." in name.split("/"), "has a '..' component"),
        (stat.S_ISLNK(entry.external_attr >> 16), "is a symbolic link"),
        (bool(entry.flag_bits & 0x1), "is encrypted"),
        (entry.compress_type not in READABLE, "is compressed in a way that cannot be read"),
    )
    return [f"zip entry '{name}' {problem}" for failed, problem in checks if failed]


class _Budget:
    """The bytes an unpacking may still write, counted as they are written: a central directory
    can declare sizes smaller than what its entries hold."""

    def __init__(self, max_unpacked: int, max_ratio: int, zip_size: int) -> None:
        self.limits = (
            (max_unpacked, f"over the limit of {max_unpacked} bytes"),
            (max_ratio * zip_size, f"over {max_ratio} times the zip's size"),
        )
        self.written = 0

    def spend(self, size: int, name: str) -> None:
        self.written += size
        for limit, reason in self.limits:
            if self.written > limit:
                message = f"zip entry '{name}' takes what is unpacked {reason}"
                raise ImportFailed([message])


def _make_folder(folder: Path, name: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ImportFailed([f"zip entry '{name}' clashes with another entry"]) from None


def _write(source: IO[bytes], destination: Path, name: str, budget: _Budget) -> None:
    try:
        descriptor = os.open(destination, _CREATE, 0o644)
    except (FileExistsError, IsADirectoryError, NotADirectoryError):
        raise ImportFailed([f"zip entry '{name}' clashes with another entry"]) from None
    with os.fdopen(descriptor, "wb") as out:
        while True:
            try:
                chunk = source.read(CHUNK)
            except (zipfile.BadZipFile, EOFError, OSError, zlib.error, lzma.LZMAError):
                # A checksum or a stream that does not match the declared size, among others.
                raise ImportFailed([f"zip entry '{name}' is damaged"]) from None
            if not chunk:
                return
            budget.spend(len(chunk), name)
            out.write(chunk)
