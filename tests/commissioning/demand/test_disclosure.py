"""Disclosure control, including attempts to recover a hidden figure."""

from datetime import date

import pytest

from commissioning.demand.disclosure import (
    DisclosureError,
    _hide_secondary,
    grid_for,
    hidden_cells,
    publish_count,
    published_figures,
    round_count,
    round_spend,
)
from commissioning.demand.selectors import DemandQuery, rollup_figures
from marketplace.accounts.models import CareGroup
from marketplace.providers.taxonomy import ServiceCategory

from .factories import buy, people, provider

pytestmark = pytest.mark.django_db

MARCH = date(2026, 3, 1)
FEB = date(2026, 2, 1)


def march(**kwargs):
    return DemandQuery(start=MARCH, end=MARCH, **kwargs)


@pytest.fixture
def borough():
    """March: 12 people in N2, 10 in N3, 3 in N12 (too few to publish), all home care."""
    groups = {"N2 8AA": 12, "N3 2SB": 10, "N12 0AA": 3}
    for postcode, count in groups.items():
        for person in people(count, postcode=postcode):
            buy(holder=person, amount_pence=2000, occurred_on=date(2026, 3, 5))
    # The three in N12 spend a lot, so their total would stand out.
    return groups


def by_locality(rows):
    return {row["locality"]: row for row in rows}


def test_rounding_rules():
    assert [round_count(n) for n in (8, 12, 13, 17, 18)] == [10, 10, 15, 15, 20]
    assert round_spend(12_345) == 12_000
    assert round_spend(12_500) == 13_000
    assert publish_count(7) is None
    assert publish_count(0) == 0
    assert publish_count(9) == 10


def test_a_cell_resting_on_fewer_than_eight_people_is_hidden(borough):
    published = published_figures(query=march(group_by=("locality",)))
    rows = by_locality(published.rows)
    assert rows["N12"]["suppressed"] is True
    assert rows["N12"]["holders"] is None and rows["N12"]["spend_pence"] is None
    # N2 (12 people) is shown, rounded to the nearest 5.
    assert rows["N2"]["holders"] == 10
    assert rows["N2"]["spend_pence"] == 24_000


def test_secondary_suppression_hides_the_next_smallest_cell(borough):
    rows = by_locality(published_figures(query=march(group_by=("locality",))).rows)
    # With N12 alone hidden, the category total minus N2 and N3 would give it away
    # on any grid that publishes the true total; so N3 (the next smallest) goes too.
    assert rows["N3"]["suppressed"] is True
    assert rows["N2"]["suppressed"] is False


def test_the_total_is_the_sum_of_visible_cells_so_subtraction_reveals_nothing(borough):
    total = published_figures(query=march()).rows[0]
    rows = published_figures(query=march(group_by=("locality",))).rows
    visible = sum(r["spend_pence"] for r in rows if not r["suppressed"])
    assert total["spend_pence"] == visible == 24_000
    assert total["holders"] == 10
    # True spend is 25 x £20 = £500; nothing published reaches it.
    assert total["spend_pence"] < 50_000


def test_differencing_a_filter_recovers_nothing(borough):
    with_small = published_figures(query=march(filters=(("locality", ("N2", "N12")),))).rows[0]
    without_small = published_figures(query=march(filters=(("locality", ("N2",)),))).rows[0]
    assert with_small["spend_pence"] == without_small["spend_pence"]
    assert with_small["holders"] == without_small["holders"]


def test_overlapping_periods_recover_nothing(borough):
    # February has plenty of people everywhere, so only March's small cell is hidden.
    for postcode in ("N2 8AA", "N3 2SB", "N12 0AA"):
        for person in people(9, postcode=postcode):
            buy(holder=person, amount_pence=1000, occurred_on=date(2026, 2, 10))
    two_months = published_figures(query=DemandQuery(start=FEB, end=MARCH, group_by=("locality",)))
    february = published_figures(query=DemandQuery(start=FEB, end=FEB, group_by=("locality",)))
    n12_both = by_locality(two_months.rows)["N12"]
    n12_feb = by_locality(february.rows)["N12"]
    # N12's March spend (3 x £20) is not in the two-month figure, so the difference is 0.
    assert n12_both["spend_pence"] - n12_feb["spend_pence"] == 0
    assert n12_both["partial"] is True


def test_a_second_grid_cannot_be_used_to_difference_one_hidden_cell(borough):
    # Care group splits the same people differently: 3 mental health, the rest older people.
    for person in people(3, postcode="N2 8AA", care_group=CareGroup.MENTAL_HEALTH):
        buy(holder=person, amount_pence=2000, occurred_on=date(2026, 3, 6))
    locality = published_figures(query=march(group_by=("locality",))).rows
    care = published_figures(query=march(group_by=("care_group",))).rows
    total_by_locality = sum(r["spend_pence"] or 0 for r in locality)
    total_by_care = sum(r["spend_pence"] or 0 for r in care)
    exact = {r["care_group"]: r for r in rollup_figures(query=march(group_by=("care_group",)))}
    hidden_single_values = {exact[CareGroup.MENTAL_HEALTH]["spend_pence"]}
    exact_loc = {r["locality"]: r for r in rollup_figures(query=march(group_by=("locality",)))}
    hidden_single_values |= {exact_loc["N12"]["spend_pence"], exact_loc["N3"]["spend_pence"]}
    assert abs(total_by_locality - total_by_care) not in hidden_single_values
    # Each grid line with a hidden cell has at least two hidden cells.
    for grid in (("category", "locality"), ("category", "care_group")):
        cells = hidden_cells(start=MARCH, end=MARCH, grid=grid)
        assert len(cells) != 1


def test_secondary_suppression_is_repeated_until_no_line_has_one_hidden_cell():
    cells = {
        ("home_care", "N2"): 20,
        ("home_care", "N3"): 9,
        ("home_care", "N12"): 3,
        ("meals", "N3"): 30,
        ("meals", "N2"): 25,
    }
    hidden = {("home_care", "N12")}
    _hide_secondary(cells, hidden)
    # Row home_care: N3 hidden next; then column N3 has one hidden, so meals/N3 ... and so on.
    assert ("home_care", "N3") in hidden
    rows, columns = {}, {}
    for key in hidden:
        rows[key[0]] = rows.get(key[0], 0) + 1
        columns[key[1]] = columns.get(key[1], 0) + 1
    for line, count in list(rows.items()) + list(columns.items()):
        cells_in_line = [k for k in cells if line in k]
        assert count != 1 or len(cells_in_line) == 1


def test_published_queries_must_fit_one_grid():
    with pytest.raises(DisclosureError, match="at most one of"):
        grid_for(dimensions={"locality", "care_group"})
    assert grid_for(dimensions={"month", "category", "sector"}) == ("category", "sector")


def test_the_same_cells_are_hidden_whatever_the_filter(borough):
    plain = hidden_cells(start=MARCH, end=MARCH, grid=("category", "locality"))
    published_figures(query=march(filters=(("category", (ServiceCategory.MEALS,)),)))
    again = hidden_cells(start=MARCH, end=MARCH, grid=("category", "locality"))
    assert plain == again
    assert {c["postcode_district"] for c in plain} == {"N12", "N3"}


@pytest.mark.parametrize(
    ("group_by", "by_provider"),
    [
        ((), True),
        (("provider",), False),
        (("category", "provider"), False),
        (("month",), True),
        (("month", "category", "provider"), False),
    ],
)
def test_published_figures_are_the_visible_cells_figures_rounded(group_by, by_provider):
    """Published rows, summed from the grid's cells with people from the reach rows, equal the
    exact figures with the hidden cells left out, rounded; small rows are suppressed."""
    big, small = provider("Big Care Ltd"), provider("Small CIC")
    for index, person in enumerate(people(20)):
        for month in (FEB, MARCH):
            buy(
                holder=person,
                organisation=small if index % 6 == 0 and month == MARCH else big,
                category=(ServiceCategory.HOME_CARE, ServiceCategory.MEALS)[index % 2],
                amount_pence=1000 + index,
                occurred_on=month.replace(day=1 + index),
            )
    filters = (("provider", (str(big.pk), str(small.pk))),) if by_provider else ()
    query = DemandQuery(start=FEB, end=MARCH, group_by=group_by, filters=filters)
    published = published_figures(query=query)
    hidden = hidden_cells(start=FEB, end=MARCH, grid=("category", "provider"))
    assert published.hidden_cells == len(hidden) > 0
    shown = {
        tuple(r[name] for name in group_by): r for r in rollup_figures(query=query, excluded=hidden)
    }
    every = rollup_figures(query=query)
    assert [tuple(r[name] for name in group_by) for r in published.rows] == [
        tuple(r[name] for name in group_by) for r in every
    ]
    for row, exact in zip(published.rows, every, strict=True):
        visible = shown.get(tuple(row[name] for name in group_by))
        if visible is None or visible["holders"] < 8:
            assert row["suppressed"] is True and row["holders"] is None
            continue
        assert row["holders"] == round_count(visible["holders"])
        assert row["purchases"] == round_count(visible["purchases"])
        assert row["spend_pence"] == round_spend(visible["spend_pence"])
        assert row["partial"] == (
            visible["holders"] != exact["holders"] or visible["spend_pence"] != exact["spend_pence"]
        )
