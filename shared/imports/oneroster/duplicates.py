"""sourcedIds repeated within a big file (roles.csv, enrollments.csv), found without holding
the ids: each id is kept as its 64-bit hash, 8 bytes a row, in buckets by the hash's low bits
so that each bucket's check is small. A hash seen twice is confirmed, and placed, by reading the
file again; that happens only when the file does repeat an id (or two ids share a hash)."""

from array import array

from shared.imports.oneroster.source import Source

_BUCKETS = 64


class RepeatedIds:
    def __init__(self) -> None:
        self._buckets = [array("q") for _ in range(_BUCKETS)]

    def add(self, sourced_id: str) -> None:
        code = hash(sourced_id)
        self._buckets[code % _BUCKETS].append(code)

    def suspects(self) -> set[int]:
        found: set[int] = set()
        for bucket in self._buckets:
            if len(set(bucket)) == len(bucket):
                continue
            seen: set[int] = set()
            for code in bucket:
                if code in seen:
                    found.add(code)
                seen.add(code)
        return found


def report_repeated(source: Source, repeated: RepeatedIds) -> None:
    """Each row whose sourcedId (its first column) is that of a row before it."""
    suspects = repeated.suspects()
    if not suspects:
        return
    first: dict[str, int] = {}
    later: list[tuple[int, str]] = []
    for line, cells in source.rows(quiet=True):
        sourced_id = cells[0]
        if sourced_id and hash(sourced_id) in suspects:
            if sourced_id in first:
                later.append((line, sourced_id))
            else:
                first[sourced_id] = line
    for line, sourced_id in later:
        source.problem(line, "sourcedId", f"{sourced_id!r} is also on line {first[sourced_id]}")
