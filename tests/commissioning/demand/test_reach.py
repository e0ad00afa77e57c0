"""The reach table (who bought in a cell, by month, in four-year windows) and the figures read from it."""

from collections import defaultdict
from contextlib import nullcontext
from datetime import date
from unittest import mock

import pytest

from django.db import connection

from commissioning.demand import selectors
from commissioning.demand.models import (
    PATTERN_GROUPINGS,
    YEAR_GROUPINGS,
    DemandRollupMember,
    DemandRollupPattern,
    DemandRollupReach,
    DemandRollupYear,
)
from commissioning.demand.reach import (
    pattern_differences,
    patterns_rebuild_sql,
    reach_differences,
    reach_rebuild_sql,
)
from commissioning.demand.selectors import (
    DemandQuery,
    GridKeys,
    _tuple_order,
    exact_holders,
    purchase_figures,
    rollup_figures,
    row_key,
)
from commissioning.demand.services import (
    demand_rollup_apply,
    demand_rollups_apply,
    demand_rollups_differences,
    demand_rollups_rebuild,
)
from marketplace.payments.models import Purchase
from marketplace.providers.taxonomy import ServiceCategory

from .factories import buy, people, provider

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def _months(holder, grouping="total", first_year=2024):
    return DemandRollupReach.objects.get(
        grouping=grouping, first_year=first_year, budget_holder_id=holder.pk
    ).months


def _bits(*months):
    return sum(1 << month for month in months)


def test_a_person_has_a_row_per_cell_in_both_windows_holding_a_month_with_a_bit_per_month():
    [ann] = people(1)
    buy(holder=ann, occurred_on=date(2025, 1, 5))
    buy(holder=ann, occurred_on=date(2025, 1, 20))
    buy(holder=ann, occurred_on=date(2025, 3, 2))
    buy(holder=ann, occurred_on=date(2026, 2, 2))

    # 2025 is in the windows 2022-2025 and 2024-2027; 2026 in 2024-2027 and 2026-2029.
    assert _months(ann, first_year=2022) == _bits(36, 38)
    assert _months(ann, first_year=2024) == _bits(12, 14, 25)
    assert _months(ann, first_year=2026) == _bits(1)
    assert DemandRollupReach.objects.filter(grouping="total").count() == 3
    assert DemandRollupReach.objects.filter(grouping="locality", value="N3").count() == 3
    assert reach_differences() == []
    assert pattern_differences() == []


def test_people_buying_in_the_same_months_share_one_pattern():
    carers = provider("Carers Ltd")
    ann, bob, cat = people(3)
    for holder in (ann, bob, cat):
        buy(holder=holder, organisation=carers, occurred_on=date(2025, 1, 5))
        buy(holder=holder, organisation=carers, occurred_on=date(2025, 2, 5))
    buy(holder=cat, organisation=carers, occurred_on=date(2025, 3, 5))

    # Patterns a person has moved out of stay, at 0 people, until a rebuild.
    patterns = DemandRollupPattern.objects.filter(
        grouping="provider", first_year=2024, people__gt=0
    )
    assert set(patterns.values_list("months", "people")) == {
        (_bits(12, 13), 2),
        (_bits(12, 13, 14), 1),
    }
    period = DemandQuery(start=date(2025, 1, 1), end=date(2025, 3, 1))
    by_provider = rollup_figures(query=period.with_changes(group_by=("provider",)))
    assert [r["holders"] for r in by_provider] == [3]
    by_month = rollup_figures(query=period.with_changes(group_by=("month", "provider")))
    assert [r["holders"] for r in by_month] == [3, 3, 1]
    # Cat's March purchase refunded away: she joins the others' pattern.
    demand_rollups_apply(purchases=list(Purchase.objects.filter(occurred_on__month=3)), sign=-1)
    assert set(patterns.values_list("months", "people")) == {(_bits(12, 13), 3)}
    assert pattern_differences() == []


def test_the_last_purchase_of_a_month_clears_its_bit_and_the_last_of_a_year_the_row():
    [ann] = people(1)
    january = buy(holder=ann, occurred_on=date(2025, 1, 5))
    march_first = buy(holder=ann, occurred_on=date(2025, 3, 2))
    march_second = buy(holder=ann, occurred_on=date(2025, 3, 9))

    demand_rollup_apply(purchase=march_first, sign=-1)
    assert _months(ann) == _bits(12, 14)  # still a purchase in March
    demand_rollup_apply(purchase=march_second, sign=-1)
    assert _months(ann) == _bits(12)
    assert _months(ann, first_year=2022) == _bits(36)
    demand_rollup_apply(purchase=january, sign=-1)
    assert not DemandRollupReach.objects.filter(budget_holder_id=ann.pk).exists()
    Purchase.objects.filter(budget_holder_id=ann.pk).delete()
    assert demand_rollups_differences() == []
    assert reach_differences() == []
    assert pattern_differences() == []


def test_reclassifying_moves_the_person_between_cells():
    [ann] = people(1)
    purchase = buy(holder=ann, category=ServiceCategory.OTHER, occurred_on=date(2025, 4, 1))
    demand_rollup_apply(purchase=purchase, sign=-1)
    purchase.category = ServiceCategory.MEALS
    purchase.save()
    demand_rollup_apply(purchase=purchase, sign=1)

    rows = DemandRollupReach.objects.filter(grouping="category", first_year=2024)
    assert list(rows.values_list("category", "months")) == [(ServiceCategory.MEALS, _bits(15))]
    assert reach_differences() == []
    assert pattern_differences() == []


def test_a_statement_sized_batch_keeps_the_reach_in_step():
    carers = provider("Carers Ltd")
    holders = people(30)
    # Inserted in bulk and applied in one call, as a card statement import does.
    purchases = Purchase.objects.bulk_create(
        [
            Purchase(
                budget_holder=holders[i % 30],
                organisation=carers if i % 3 else None,
                category=(ServiceCategory.HOME_CARE, ServiceCategory.MEALS)[i % 2],
                amount_pence=1000 + i,
                occurred_on=date(2025, 1 + i % 12, 1 + i % 27),
                channel="card",
                source_reference=f"statement-{i}",
                care_group=holders[i % 30].care_group,
                postcode_district="N3",
            )
            for i in range(240)
        ]
    )
    demand_rollups_apply(purchases=purchases, sign=1)
    assert demand_rollups_differences() == []
    assert reach_differences() == []
    assert pattern_differences() == []
    demand_rollups_apply(purchases=purchases[::2], sign=-1)
    Purchase.objects.filter(pk__in=[p.pk for p in purchases[::2]]).delete()
    assert demand_rollups_differences() == []
    assert reach_differences() == []
    assert pattern_differences() == []
    # Every other purchase went, and with it every purchase of the even-numbered people
    # (each in two windows).
    assert DemandRollupReach.objects.filter(grouping="total").count() == 2 * 15


def test_rebuild_and_repair_give_the_same_reach():
    ann, bob = people(2)
    buy(holder=ann, occurred_on=date(2025, 6, 1))
    buy(holder=bob, occurred_on=date(2025, 7, 1), category=ServiceCategory.MEALS)
    before = set(DemandRollupReach.objects.values_list("pk", "months"))

    demand_rollups_rebuild()
    assert set(DemandRollupReach.objects.values_list("pk", "months")) == before
    DemandRollupReach.objects.filter(grouping="category").delete()
    assert reach_differences()
    assert reach_rebuild_sql() == len(before)
    assert reach_differences() == []
    assert pattern_differences() == []
    DemandRollupPattern.objects.filter(grouping="provider").delete()
    assert pattern_differences()
    assert patterns_rebuild_sql() == DemandRollupPattern.objects.count()
    assert pattern_differences() == []
    DemandRollupMember.objects.all().delete()
    assert not DemandRollupReach.objects.exists()
    assert not DemandRollupPattern.objects.exists()


def _expected(purchases, query, excluded_cells):
    """Figures by hand from purchases, leaving out purchases in excluded (month, category, district)."""
    groups = defaultdict(lambda: [0, 0, set()])
    for p in purchases:
        month = p.occurred_on.replace(day=1)
        if not query.start <= month <= query.end:
            continue
        if (month, p.category, p.postcode_district) in excluded_cells:
            continue
        values = {
            "month": month.isoformat()[:7],
            "category": p.category,
            "locality": p.postcode_district,
        }
        key = tuple(values[name] for name in query.group_by)
        groups[key][0] += p.amount_pence
        groups[key][1] += 1
        groups[key][2].add(p.budget_holder_id)
    return sorted(
        [
            {
                **dict(zip(query.group_by, key, strict=True)),
                "spend_pence": spend,
                "purchases": count,
                "holders": len(holders),
            }
            for key, (spend, count, holders) in groups.items()
        ],
        key=lambda r: tuple(r[name] for name in query.group_by),
    )


def test_figures_across_a_year_end_with_excluded_cells_count_each_person_once():
    ann, bob, cat = people(3)
    [dan] = people(1, postcode="EN5 1AA")
    for day, holder, category in [
        (date(2024, 11, 5), ann, ServiceCategory.HOME_CARE),
        (date(2024, 12, 5), ann, ServiceCategory.HOME_CARE),
        (date(2025, 1, 5), ann, ServiceCategory.MEALS),
        (date(2025, 1, 9), bob, ServiceCategory.MEALS),
        (date(2024, 12, 9), bob, ServiceCategory.HOME_CARE),
        (date(2025, 2, 1), cat, ServiceCategory.TRANSPORT),
        (date(2024, 12, 2), dan, ServiceCategory.HOME_CARE),
        (date(2025, 2, 3), dan, ServiceCategory.HOME_CARE),
    ]:
        buy(holder=holder, category=category, occurred_on=day)
    purchases = list(Purchase.objects.all())
    period = DemandQuery(start=date(2024, 12, 1), end=date(2025, 2, 1))
    hidden = [
        {"month": date(2024, 12, 1), "category": "home_care", "postcode_district": "N3"},
        {"month": date(2025, 2, 1), "category": "home_care", "postcode_district": "EN5"},
    ]
    hidden_keys = {(c["month"], c["category"], c["postcode_district"]) for c in hidden}
    for group_by in [(), ("category",), ("locality",), ("month",), ("month", "locality")]:
        query = period.with_changes(group_by=group_by)
        assert rollup_figures(query=query) == purchase_figures(query=query), group_by
        assert rollup_figures(query=query, excluded=hidden) == _expected(
            purchases, query, hidden_keys
        ), group_by
    # Ann bought in both years: one person over the period, not two.
    assert rollup_figures(query=period.with_changes(group_by=("category",)))[0]["holders"] == 3


def _scatter():
    """Purchases over three years in two districts, two care groups and three providers."""
    big, small = provider("Big Care Ltd"), provider("Small CIC", sector="voluntary")
    north = people(4, postcode="N2 8AA")
    south = people(3, postcode="EN5 1AA", care_group="mental_health")
    day = date(2023, 5, 3)
    for index in range(60):
        holder = (north + south)[index % 7]
        buy(
            holder=holder,
            organisation=(big, small, None)[index % 3],
            category=(ServiceCategory.HOME_CARE, ServiceCategory.MEALS)[index % 2],
            amount_pence=(1000 + index) * (-1 if index % 11 == 0 else 1),
            channel=("marketplace", "card")[index % 2],
            occurred_on=day,
        )
        month = day.month + 1 + index % 2
        day = date(day.year + (month - 1) // 12, (month - 1) % 12 + 1, 1 + index % 27)
    return big, small


SINGLE = ("locality", "care_group", "sector", "channel", "provider")


def test_each_dimension_has_its_own_grouping_kept_in_step_through_refunds_removal_and_rebuild():
    big, small = _scatter()
    for name in SINGLE:
        assert DemandRollupReach.objects.filter(grouping=name).exists(), name
    assert set(
        DemandRollupReach.objects.filter(grouping="provider").values_list("value", flat=True)
    ) == {str(big.pk), str(small.pk), "-"}
    assert demand_rollups_differences() == []
    assert reach_differences() == []
    assert pattern_differences() == []

    gone = list(Purchase.objects.filter(organisation=big))
    demand_rollups_apply(purchases=gone, sign=-1)
    Purchase.objects.filter(pk__in=[p.pk for p in gone]).delete()
    assert not DemandRollupReach.objects.filter(grouping="provider", value=str(big.pk)).exists()
    assert demand_rollups_differences() == []
    assert reach_differences() == []
    assert pattern_differences() == []

    before = set(DemandRollupReach.objects.values_list("pk", "months"))
    patterns = set(DemandRollupPattern.objects.filter(people__gt=0).values_list("pk", "people"))
    demand_rollups_rebuild()
    assert set(DemandRollupReach.objects.values_list("pk", "months")) == before
    assert set(DemandRollupPattern.objects.values_list("pk", "people")) == patterns
    # Every mask of the pattern groupings; only masks of two or more months of the year ones.
    groupings = set(DemandRollupPattern.objects.values_list("grouping", flat=True))
    assert set(PATTERN_GROUPINGS) <= groupings <= {*PATTERN_GROUPINGS, *YEAR_GROUPINGS}
    for months in DemandRollupPattern.objects.filter(grouping__in=YEAR_GROUPINGS).values_list(
        "months", flat=True
    ):
        assert months & (months - 1), f"{months:048b}"


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2024, 12, 1), date(2025, 11, 1)),  # inside one window, across a year end
        (date(2023, 6, 1), date(2025, 6, 1)),  # 25 months: still one window
        (date(2023, 6, 1), date(2026, 2, 1)),  # longer: windows four years apart
    ],
)
def test_figures_by_every_dimension_equal_a_group_by_over_purchases(start, end):
    _scatter()
    period = DemandQuery(start=start, end=end)
    for group_by in [
        (),
        *((name,) for name in ("category", *SINGLE, "month")),
        ("month", "provider"),
        ("category", "provider"),
        ("month", "category", "locality"),
    ]:
        query = period.with_changes(group_by=group_by)
        assert rollup_figures(query=query) == purchase_figures(query=query), group_by
    filtered = period.with_changes(group_by=("locality",), filters=(("category", ("meals",)),))
    assert rollup_figures(query=filtered) == purchase_figures(query=filtered)


def test_exact_holders_leave_out_excluded_months_of_each_person():
    _scatter()
    period = DemandQuery(start=date(2023, 6, 1), end=date(2026, 2, 1))
    purchases = list(Purchase.objects.all())
    hidden = [
        {"month": date(2024, 2, 1), "category": "home_care", "postcode_district": "N2"},
        {"month": date(2025, 7, 1), "category": "meals", "postcode_district": "EN5"},
        {"month": date(2023, 9, 1), "category": "meals", "postcode_district": "N2"},
    ]
    keys = {(c["month"], c["category"], c["postcode_district"]) for c in hidden}
    for group_by in [(), ("category",), ("locality",), ("month",), ("category", "locality")]:
        query = period.with_changes(group_by=group_by)
        every, shown = exact_holders(query=query, excluded=hidden)
        for counts, cells in ((every, set()), (shown, keys)):
            expected = _expected(purchases, query, cells)
            assert counts == {
                tuple(row[name] for name in group_by): row["holders"] for row in expected
            }, group_by
        assert rollup_figures(query=query, excluded=hidden) == _expected(purchases, query, keys), (
            group_by
        )


def _market_figures(purchases, query):
    """Category x locality x provider figures by hand from purchases."""
    groups = defaultdict(lambda: [0, 0, set()])
    for p in purchases:
        if not query.start <= p.occurred_on.replace(day=1) <= query.end:
            continue
        key = (
            p.category,
            p.postcode_district,
            "-" if p.organisation_id is None else str(p.organisation_id),
        )
        groups[key][0] += p.amount_pence
        groups[key][1] += 1
        groups[key][2].add(p.budget_holder_id)
    return [
        {
            "category": key[0],
            "locality": key[1],
            "provider": key[2],
            "spend_pence": spend,
            "purchases": count,
            "holders": len(holders),
        }
        for key, (spend, count, holders) in sorted(groups.items())
    ]


@pytest.mark.parametrize(
    ("start", "end", "one_window"),
    [
        (date(2024, 12, 1), date(2025, 11, 1), True),  # most of 2025: its year less December
        (date(2025, 3, 1), date(2025, 5, 1), True),  # three months' rows
        (date(2023, 6, 1), date(2025, 6, 1), True),  # 25 months: still one window
        (date(2023, 6, 1), date(2026, 2, 1), False),  # two windows: counted from the reach rows
    ],
)
def test_people_by_category_locality_and_provider_are_person_months_less_repeat_months(
    start, end, one_window
):
    _scatter()
    # Regular buyers: the same cell month after month, across a year end, some months skipped.
    carers = provider("Carers Ltd")
    regulars = people(3, postcode="N2 8AA")
    for month in range(20):
        day = date(2024 + (month + 9) // 12, (month + 9) % 12 + 1, 3)
        for index, holder in enumerate(regulars):
            if (month + index) % 4:
                buy(holder=holder, organisation=carers, occurred_on=day)
    query = DemandQuery(start=start, end=end, group_by=("provider", "category", "locality"))
    purchases = list(Purchase.objects.all())
    # Inside one window no reach row is read, person by person.
    reach = mock.patch("commissioning.demand.selectors._reach_holders", side_effect=AssertionError)
    with reach if one_window else nullcontext():
        rows = rollup_figures(query=query)
    by_hand = _market_figures(purchases, query)
    assert sorted(rows, key=lambda r: (r["provider"], r["category"], r["locality"])) == sorted(
        by_hand, key=lambda r: (r["provider"], r["category"], r["locality"])
    )
    # In group order: provider first, as a GROUP BY would sort its tuples.
    assert [row_key(r, query.group_by) for r in rows] == sorted(
        row_key(r, query.group_by) for r in rows
    )
    assert any(r["holders"] < r["purchases"] for r in rows)  # someone bought in several months
    filtered = query.with_changes(filters=(("provider", (str(carers.pk),)),))
    assert rollup_figures(query=filtered) == [r for r in rows if r["provider"] == str(carers.pk)]


def test_year_rows_keep_the_months_people_and_the_patterns_keep_repeat_masks():
    carers = provider("Carers Ltd")
    ann, bob = people(2)
    january = buy(holder=ann, organisation=carers, occurred_on=date(2025, 1, 5))
    buy(holder=ann, organisation=carers, occurred_on=date(2025, 3, 5))
    buy(holder=bob, organisation=carers, occurred_on=date(2025, 3, 9))

    year = DemandRollupYear.objects.get(
        grouping="category_locality_provider", year=2025, value2=str(carers.pk)
    )
    assert year.holder_months == 3  # Ann in January and March, Bob in March
    # Only Ann's mask has two months: Bob's single month is counted from the months alone.
    repeats = DemandRollupPattern.objects.filter(grouping="category_locality_provider")
    assert set(repeats.filter(first_year=2024).values_list("months", "people")) == {
        (_bits(12, 14), 1)
    }
    demand_rollup_apply(purchase=january, sign=-1)
    Purchase.objects.filter(pk=january.pk).delete()
    year.refresh_from_db()
    assert year.holder_months == 2
    assert not repeats.filter(people__gt=0).exists()
    assert demand_rollups_differences() == []
    assert pattern_differences() == []
    DemandRollupYear.objects.update(holder_months=0)
    assert demand_rollups_differences()  # the year rows against their months
    demand_rollups_rebuild()
    year.refresh_from_db()
    assert year.holder_months == 2
    assert demand_rollups_differences() == []


def test_people_by_provider_lose_only_those_wholly_in_hidden_cells():
    big, small = provider("Big Care Ltd"), provider("Small CIC")
    ann, bob, cat, dan, eve, fay = people(6)
    home, meals = ServiceCategory.HOME_CARE, ServiceCategory.MEALS
    for holder, organisation, category, day in [
        (ann, big, home, date(2025, 1, 5)),  # hidden...
        (ann, big, meals, date(2025, 4, 5)),  # ...but another category is visible
        (bob, big, home, date(2025, 1, 6)),  # only hidden months
        (cat, big, home, date(2025, 1, 7)),
        (cat, big, meals, date(2024, 11, 7)),  # visible, but before the period
        (dan, big, home, date(2025, 1, 8)),
        (dan, big, home, date(2025, 3, 8)),  # the same pair, a visible month
        (eve, big, home, date(2025, 1, 9)),
        (eve, small, home, date(2025, 1, 9)),  # hidden at both providers
        (fay, big, home, date(2025, 1, 10)),
        (fay, big, meals, date(2025, 2, 10)),  # two hidden pairs
        (fay, small, meals, date(2025, 6, 10)),
    ]:
        buy(holder=holder, organisation=organisation, category=category, occurred_on=day)
    hidden = [
        {"month": date(2025, 1, 1), "category": home, "organisation_id": big.pk},
        {"month": date(2025, 1, 1), "category": home, "organisation_id": small.pk},
        {"month": date(2025, 2, 1), "category": meals, "organisation_id": big.pk},
        {"month": date(2023, 2, 1), "category": meals, "organisation_id": big.pk},  # not in it
    ]
    period = DemandQuery(start=date(2024, 12, 1), end=date(2025, 11, 1))
    by_provider = period.with_changes(group_by=("provider",))
    answers, answer = [], selectors._holders_less_wholly_hidden

    def spy(*args, **kwargs):
        answers.append(answer(*args, **kwargs))
        return answers[-1]

    with mock.patch("commissioning.demand.selectors._holders_less_wholly_hidden", side_effect=spy):
        every, shown = exact_holders(query=by_provider, excluded=hidden)
    assert answers and answers[0] is not None  # answered without the fold
    assert every == {(str(big.pk),): 6, (str(small.pk),): 2}
    assert shown == {(str(big.pk),): 2, (str(small.pk),): 1}  # Ann and Dan; Fay
    # The same cells as a grid's keys, in the rollups' own form.
    keys = GridKeys(
        ("category", "provider"),
        {(c["month"], c["category"], str(c["organisation_id"])) for c in hidden},
    )
    assert exact_holders(query=by_provider, excluded=keys) == (every, shown)
    total = exact_holders(query=period, excluded=hidden)
    assert total == ({(): 6}, {(): 3})  # Ann, Dan and Fay: Fay is seen at Small CIC
    only_small = by_provider.with_changes(filters=(("provider", (str(small.pk),)),))
    assert exact_holders(query=period, excluded=keys) == total
    # No cells is no exclusion: the total is read from the total grouping, not the grid's.
    nothing = GridKeys(("category", "provider"), set())
    assert not nothing
    with mock.patch(
        "commissioning.demand.selectors._reach_holders", wraps=selectors._reach_holders
    ) as reach:
        assert exact_holders(query=period, excluded=nothing) == ({(): 6}, {(): 6})
    assert reach.call_args.kwargs["grouping"] == "total"
    assert exact_holders(query=only_small, excluded=hidden) == (
        {(str(small.pk),): 2},
        {(str(small.pk),): 1},
    )
    # The same as folding the grid's reach rows per person.
    with mock.patch(
        "commissioning.demand.selectors._holders_less_wholly_hidden", return_value=None
    ):
        assert exact_holders(query=by_provider, excluded=hidden) == (every, shown)
        assert exact_holders(query=period, excluded=hidden) == total


def test_the_one_key_order_is_the_order_python_gives_the_tuples():
    values = ["", "a", "a\x01", "a\x01b", "a\x02", "ab", "b", "N1", "N10", "N2", "é", "Z", "-"]
    pairs = [(first, second) for first in values for second in values]
    rows = ", ".join(["(%s, %s)"] * len(pairs))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT a, b FROM (VALUES {rows}) AS t (a, b) ORDER BY {_tuple_order(['a', 'b'])}",  # noqa: S608
            [value for pair in pairs for value in pair],
        )
        ordered = [tuple(row) for row in cursor.fetchall()]
    assert ordered == sorted(pairs)
