"""Expected result tables, written as `channel__reason=n` for the cells a batch sets."""

from shared.core.vocabulary import CHANNELS, REASONS

Table = dict[str, dict[str, int | None]]


def result_table(**cells: int) -> Table:
    """The whole channel x reason table: the given cells, None (No Change) everywhere else."""
    table: Table = {channel: dict.fromkeys(REASONS) for channel in CHANNELS}
    for key, value in cells.items():
        channel, reason = key.split("__")
        table[channel][reason] = value
    return table
