"""The arithmetic of a batch's counts: chunks add up, noChange cells are None."""

from shared.batches.result import add_into, result_table, zero_matrix
from shared.core.grids import NO_CHANGE
from shared.core.vocabulary import CHANNELS, REASONS
from tests.support.results import result_table as expected_table


def test_chunks_add_up_cell_by_cell():
    total = zero_matrix()
    first = zero_matrix()
    first[4][0], first[0][6] = 3, 1  # email emergency, householdPhone priority
    second = zero_matrix()
    second[4][0], second[3][4] = 2, 5  # email emergency, cellPhone general
    for part in (first, None, second):  # a chunk that counted nothing has None
        add_into(total, part)
    assert total[4][0] == 5 and total[0][6] == 1 and total[3][4] == 5
    assert sum(map(sum, total)) == 11
    assert zero_matrix() == [[0] * 8 for _ in range(6)]


def test_the_result_shows_none_where_the_option_was_no_change():
    changes = {channel: dict.fromkeys(REASONS, NO_CHANGE) for channel in CHANNELS}
    changes["email"]["emergency"] = "on"
    changes["cellPhone"]["general"] = "off"
    counts = [[k + 10 * c for k in range(len(REASONS))] for c in range(len(CHANNELS))]
    assert result_table(changes, counts) == expected_table(
        email__emergency=40, cellPhone__general=34
    )


def test_a_changes_grid_missing_a_channel_counts_it_as_no_change():
    assert result_table({"email": {"teacher": "on"}}, zero_matrix()) == expected_table(
        email__teacher=0
    )
