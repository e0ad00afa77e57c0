"""row_maker: figure rows from a group's values, for any number of dimensions."""

import pytest

from commissioning.demand.selectors import row_maker

NAMES = ("category", "locality", "provider", "month")


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4])
def test_a_row_holds_the_groups_values_and_its_figures(size):
    names = NAMES[:size]
    values = ("home_care", "N3", "17", "2026-03")[:size]
    expected = {**dict(zip(names, values, strict=True)), "spend_pence": 5, "purchases": 2}
    expected["holders"] = None
    row = row_maker(names)
    assert row(values, 5, 2, None) == expected
    # The values may come with more after them (a database row): only the group's are read.
    assert row((*values, 5, 2, None), 5, 2, None) == expected
