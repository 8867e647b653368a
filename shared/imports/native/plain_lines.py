"""The fast path of reading: one test of a whole plain line, instead of a check per cell.

Most lines of a big bundle are plain: no quotes, cells already stripped, every cell fine. Such a
line needs no csv parsing (`split(",")` gives its cells) and is already the CSV text that COPY
takes. The test groups the cells by what is asked of them (non-empty, at most n characters, a
quick test) so that each group is tested in one pass of C code. A line it refuses is read
slowly, cell by cell, which finds and says what is wrong, if anything.
"""

from collections.abc import Callable, Sequence
from operator import call, itemgetter, le

from shared.imports.native.formats import Field

Pick = Callable[[Sequence[str]], Sequence[str]]


def pick(positions: Sequence[int]) -> Pick:
    if len(positions) == 1:
        (position,) = positions
        return lambda cells: (cells[position],)
    return itemgetter(*positions)


class RowTest:
    """Whether the cells of a plain line (in `fields` order) are all fine as they stand."""

    REMEMBERED = 50_000  # combinations of tested cells known to pass

    def __init__(self, fields: Sequence[Field]) -> None:
        self.width = len(fields)
        tests = {at: fld.kind.accepts for at, fld in enumerate(fields) if fld.kind.accepts}
        self._tested = pick(list(tests)) if tests else lambda cells: ()
        self._tests = list(tests.values())
        self._passed: set[Sequence[str]] = set()  # most rows repeat a few such combinations
        # A test that refuses an empty cell already requires it.
        required = [
            at
            for at, fld in enumerate(fields)
            if fld.required and (at not in tests or tests[at](""))
        ]
        self._required = pick(required) if required else lambda cells: ()
        limits = {at: fld.kind.max_length for at, fld in enumerate(fields) if fld.kind.max_length}
        self._limited = pick(list(limits)) if limits else lambda cells: ()
        self._limits = list(limits.values())
        self._shortest = min(self._limits, default=0)  # a line no longer is within them all

    def __call__(self, body: str, cells: Sequence[str]) -> bool:
        return (
            len(cells) == self.width
            # No cell with whitespace around it: the ASCII space is the only printable space.
            and body.isprintable()
            and ", " not in body
            and " ," not in body
            and body[0] != " "
            and body[-1] != " "
            and all(self._required(cells))
            and (
                len(body) <= self._shortest
                or all(map(le, map(len, self._limited(cells)), self._limits))
            )
            and self._pass_tests(self._tested(cells))
        )

    def _pass_tests(self, tested: Sequence[str]) -> bool:
        if tested in self._passed:
            return True
        if not all(map(call, self._tests, tested)):
            return False
        if len(self._passed) < self.REMEMBERED:
            self._passed.add(tested)
        return True
