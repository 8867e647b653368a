"""A batch's counts: per channel and reason, in vocabulary order. A chunk counts into a matrix of
numbers; the result the interfaces show has `None` where the option was noChange ("No Change")."""

from shared.core.grids import NO_CHANGE, Grid
from shared.core.vocabulary import CHANNELS, REASONS

Matrix = list[list[int]]  # [channel][reason]
ResultTable = dict[str, dict[str, int | None]]


def zero_matrix() -> Matrix:
    return [[0] * len(REASONS) for _ in CHANNELS]


def add_into(total: Matrix, part: Matrix | None) -> None:
    """Add `part` (a chunk's counts; None for a chunk that counted nothing) into `total`."""
    for row, values in zip(total, part or [], strict=False):
        for k, value in enumerate(values):
            row[k] += value


def result_table(changes: Grid, counts: Matrix) -> ResultTable:
    return {
        channel: {
            reason: None
            if changes.get(channel, {}).get(reason, NO_CHANGE) == NO_CHANGE
            else counts[c][r]
            for r, reason in enumerate(REASONS)
        }
        for c, channel in enumerate(CHANNELS)
    }
