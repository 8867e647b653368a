"""OneRoster 1.1 and 1.2 CSV bundles in: `translate(source, target)` writes the native CSV
bundle that the native import (shared.imports.native) reads. docs/oneroster.md describes the
mapping for district administrators and engineers."""

from shared.imports.oneroster.translate import Translation, translate

__all__ = ["Translation", "translate"]
