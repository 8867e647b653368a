"""Native CSV import (README.md, "CSV formats"): `import_bundle(session, directory)`.

All or nothing: every file and row is read and checked first, and any problem raises
ImportFailed with all of them as `file:line: column: what is wrong` before anything is written.
The caller owns the transaction; nothing here commits.
"""

from shared.imports.native.bundle import import_bundle
from shared.imports.native.summary import FileCounts, ImportSummary

__all__ = ["FileCounts", "ImportSummary", "import_bundle"]
