"""The per-year reach table (who bought in a cell, by month) and the figures read from it."""

from collections import defaultdict
from datetime import date

import pytest

from commissioning.demand.models import DemandRollupMember, DemandRollupReach
from commissioning.demand.reach import reach_differences, reach_rebuild_sql
from commissioning.demand.selectors import DemandQuery, purchase_figures, rollup_figures
from commissioning.demand.services import (
    demand_rollup_apply,
    demand_rollups_apply,
    demand_rollups_differences,
    demand_rollups_rebuild,
)
from marketplace.payments.models import Purchase
from marketplace.providers.taxonomy import ServiceCategory

from .factories import buy, people, provider

pytestmark = pytest.mark.django_db


def _months(holder, grouping="total", year=2025):
    return DemandRollupReach.objects.get(
        grouping=grouping, year=year, budget_holder_id=holder.pk
    ).months


def test_a_person_has_one_row_per_cell_and_year_with_a_bit_per_month():
    [ann] = people(1)
    buy(holder=ann, occurred_on=date(2025, 1, 5))
    buy(holder=ann, occurred_on=date(2025, 1, 20))
    buy(holder=ann, occurred_on=date(2025, 3, 2))
    buy(holder=ann, occurred_on=date(2026, 2, 2))

    assert _months(ann) == 0b101
    assert _months(ann, year=2026) == 0b10
    assert DemandRollupReach.objects.filter(grouping="total").count() == 2
    assert reach_differences() == []


def test_the_last_purchase_of_a_month_clears_its_bit_and_the_last_of_a_year_the_row():
    [ann] = people(1)
    january = buy(holder=ann, occurred_on=date(2025, 1, 5))
    march_first = buy(holder=ann, occurred_on=date(2025, 3, 2))
    march_second = buy(holder=ann, occurred_on=date(2025, 3, 9))

    demand_rollup_apply(purchase=march_first, sign=-1)
    assert _months(ann) == 0b101  # still a purchase in March
    demand_rollup_apply(purchase=march_second, sign=-1)
    assert _months(ann) == 0b1
    demand_rollup_apply(purchase=january, sign=-1)
    assert not DemandRollupReach.objects.filter(budget_holder_id=ann.pk).exists()
    Purchase.objects.filter(budget_holder_id=ann.pk).delete()
    assert demand_rollups_differences() == []
    assert reach_differences() == []


def test_reclassifying_moves_the_person_between_cells():
    [ann] = people(1)
    purchase = buy(holder=ann, category=ServiceCategory.OTHER, occurred_on=date(2025, 4, 1))
    demand_rollup_apply(purchase=purchase, sign=-1)
    purchase.category = ServiceCategory.MEALS
    purchase.save()
    demand_rollup_apply(purchase=purchase, sign=1)

    rows = DemandRollupReach.objects.filter(grouping="category")
    assert list(rows.values_list("category", "months")) == [(ServiceCategory.MEALS, 0b1000)]
    assert reach_differences() == []


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
    demand_rollups_apply(purchases=purchases[::2], sign=-1)
    Purchase.objects.filter(pk__in=[p.pk for p in purchases[::2]]).delete()
    assert demand_rollups_differences() == []
    assert reach_differences() == []
    # Every other purchase went, and with it every purchase of the even-numbered people.
    assert DemandRollupReach.objects.filter(grouping="total").count() == 15


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
    DemandRollupMember.objects.all().delete()
    assert not DemandRollupReach.objects.exists()


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
