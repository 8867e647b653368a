"""The result of a batch as the interfaces show it (SPEC 4.3): per channel and reason, `None`
where the option was noChange, else the number."""

from shared.core.vocabulary import CHANNELS, REASONS

ResultTable = dict[str, dict[str, int | None]]


def result_matrix(changes: dict[str, dict[str, str]], counts: list[list[int]]) -> ResultTable:
    return {
        channel: {
            reason: None
            if changes.get(channel, {}).get(reason, "noChange") == "noChange"
            else counts[c][r]
            for r, reason in enumerate(REASONS)
        }
        for c, channel in enumerate(CHANNELS)
    }
