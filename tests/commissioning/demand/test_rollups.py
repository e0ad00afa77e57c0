from datetime import date

import pytest

from django.core.management import call_command

from commissioning.demand.models import (
    GROUPINGS,
    DemandRollup,
    DemandRollupMember,
    DemandRollupYear,
)
from commissioning.demand.selectors import (
    DemandQuery,
    _cells_source,
    market_concentration,
    purchase_figures,
    rollup_concentration,
    rollup_figures,
)
from commissioning.demand.services import (
    _SET_BASED_FROM,
    demand_rollup_apply,
    demand_rollups_apply,
    demand_rollups_differences,
    demand_rollups_rebuild,
)
from marketplace.payments.models import Purchase
from marketplace.providers.taxonomy import ServiceCategory

from .factories import buy, people, provider

pytestmark = pytest.mark.django_db


def test_recording_a_purchase_updates_the_rollup_in_the_same_transaction():
    carers = provider("Carers Ltd")
    [ann] = people(1)
    buy(holder=ann, organisation=carers, amount_pence=2500)
    buy(holder=ann, organisation=carers, amount_pence=1500, occurred_on=date(2026, 3, 20))

    cell = DemandRollup.objects.get(grouping="total")
    assert cell.month == date(2026, 3, 1)
    assert cell.spend_pence == 4000
    assert cell.purchase_count == 2
    assert cell.holder_count == 1
    assert demand_rollups_differences() == []


def test_distinct_people_stay_exact_across_cells():
    carers = provider("Carers Ltd")
    ann, bob = people(2)
    buy(holder=ann, organisation=carers, category=ServiceCategory.HOME_CARE)
    buy(holder=ann, organisation=carers, category=ServiceCategory.TRANSPORT)
    buy(holder=bob, organisation=carers, category=ServiceCategory.TRANSPORT)

    by_category = DemandRollup.objects.filter(grouping="category")
    assert sum(by_category.values_list("holder_count", flat=True)) == 3
    assert DemandRollup.objects.get(grouping="total").holder_count == 2
    members = DemandRollupMember.objects.filter(grouping="category")
    assert members.values("budget_holder_id").distinct().count() == 2


def test_reclassifying_moves_spend_and_people_between_cells():
    carers = provider("Carers Ltd")
    [ann] = people(1)
    purchase = buy(
        holder=ann, organisation=carers, category=ServiceCategory.OTHER, amount_pence=900
    )

    demand_rollup_apply(purchase=purchase, sign=-1)
    purchase.category = ServiceCategory.MEALS
    purchase.save()
    demand_rollup_apply(purchase=purchase, sign=1)

    cell = DemandRollup.objects.get(grouping="category")
    assert cell.category == ServiceCategory.MEALS
    assert (cell.spend_pence, cell.purchase_count, cell.holder_count) == (900, 1, 1)
    # One cell and one member per grouping, none left behind in the old category.
    assert DemandRollup.objects.count() == len(GROUPINGS)
    assert DemandRollupMember.objects.count() == len(GROUPINGS)
    assert demand_rollups_differences() == []


def test_a_refund_reduces_spend_but_the_person_still_counts():
    [ann] = people(1)
    buy(holder=ann, amount_pence=5000)
    buy(holder=ann, amount_pence=-1000)
    for cell in DemandRollup.objects.all():
        assert (cell.spend_pence, cell.purchase_count, cell.holder_count) == (4000, 2, 1)


def test_the_check_finds_drift_and_rebuild_repairs_it():
    ann, bob = people(2)
    buy(holder=ann, amount_pence=1000)
    buy(holder=bob, amount_pence=3000, category=ServiceCategory.MEALS)
    # A bulk load that bypassed the service leaves the rollups behind.
    Purchase.objects.filter(category=ServiceCategory.MEALS).update(amount_pence=3500)
    DemandRollup.objects.filter(category=ServiceCategory.HOME_CARE).delete()

    problems = demand_rollups_differences()
    assert any("home_care" in p and "missing" in p for p in problems)
    assert any("meals" in p and "spend_pence is 3000" in p for p in problems)

    # Two people buying in different categories, alike in everything else: two cells in every
    # grouping by category, one in the others; both people in every grouping.
    cells = sum(2 if "category" in dims else 1 for dims in GROUPINGS.values())
    assert demand_rollups_rebuild() == (cells, 2 * len(GROUPINGS))
    assert demand_rollups_differences() == []


def test_rebuild_command_reports_and_repairs(capsys):
    [ann] = people(1)
    buy(holder=ann)
    DemandRollup.objects.all().delete()
    call_command("rebuild_demand_rollups")
    assert f"{len(GROUPINGS)} cells" in capsys.readouterr().out
    assert demand_rollups_differences() == []
    call_command("rebuild_demand_rollups", "--check")
    assert "in step" in capsys.readouterr().out


def test_taking_away_the_last_purchase_removes_the_person_and_the_cell():
    ann, bob = people(2)
    first = buy(holder=ann, amount_pence=1000)
    second = buy(holder=ann, amount_pence=500)
    buy(holder=bob, amount_pence=700, category=ServiceCategory.MEALS)

    demand_rollup_apply(purchase=first, sign=-1)
    assert DemandRollup.objects.get(grouping="total").holder_count == 2
    demand_rollups_apply(purchases=[second], sign=-1)
    total = DemandRollup.objects.get(grouping="total")
    assert (total.spend_pence, total.purchase_count, total.holder_count) == (700, 1, 1)
    assert not DemandRollup.objects.filter(category=ServiceCategory.HOME_CARE).exists()
    assert not DemandRollupMember.objects.filter(budget_holder_id=ann.pk).exists()
    Purchase.objects.filter(pk__in=[first.pk, second.pk]).delete()
    assert demand_rollups_differences() == []


def test_every_query_shape_equals_a_group_by_over_purchases():
    carers, helpers = provider("Carers Ltd"), provider("Helpers CIC", sector="voluntary")
    ann, bob, cat = people(3)
    [dan] = people(1, postcode="EN5 1AA")
    for day, holder, organisation, category, amount in [
        (date(2026, 1, 5), ann, carers, ServiceCategory.HOME_CARE, 2000),
        (date(2026, 2, 5), ann, carers, ServiceCategory.HOME_CARE, 2100),
        (date(2026, 2, 9), bob, helpers, ServiceCategory.MEALS, 600),
        (date(2026, 3, 1), cat, None, ServiceCategory.TRANSPORT, 1500),
        (date(2026, 3, 2), dan, helpers, ServiceCategory.HOME_CARE, 2500),
        (date(2026, 3, 3), dan, helpers, ServiceCategory.HOME_CARE, -300),
    ]:
        buy(
            holder=holder,
            organisation=organisation,
            category=category,
            amount_pence=amount,
            occurred_on=day,
        )
    period = DemandQuery(start=date(2026, 1, 1), end=date(2026, 3, 1))
    shapes = [
        (),
        ("month",),
        ("category",),
        ("locality",),
        ("month", "category", "provider"),
        ("category", "locality", "provider"),
        ("sector", "care_group"),  # no grouping holds this: read from purchases
    ]
    for group_by in shapes:
        query = period.with_changes(group_by=group_by)
        assert rollup_figures(query=query) == purchase_figures(query=query), group_by
    filtered = period.with_changes(
        group_by=("month",), filters=(("provider", (str(helpers.pk), "-")),)
    )
    assert rollup_figures(query=filtered) == purchase_figures(query=filtered)
    assert rollup_figures(query=period)[0]["holders"] == 4


@pytest.mark.postgresql  # rollup_concentration is PostgreSQL's
def test_market_concentration_summed_in_the_database_equals_the_python_figures():
    big, small, tied, refunded = (provider(name) for name in ("Big", "Small", "Tied", "Refunded"))
    ann, bob = people(2)
    [dan] = people(1, postcode="EN5 1AA")
    for day, holder, organisation, category, amount in [
        (date(2026, 1, 5), ann, big, ServiceCategory.HOME_CARE, 6000),
        (date(2026, 2, 5), bob, small, ServiceCategory.HOME_CARE, 1000),
        (date(2026, 3, 5), bob, tied, ServiceCategory.HOME_CARE, 6000),  # ties with Big
        (date(2026, 3, 6), ann, None, ServiceCategory.HOME_CARE, 9000),  # no provider
        (date(2026, 2, 9), dan, refunded, ServiceCategory.MEALS, 700),
        (date(2026, 3, 9), dan, refunded, ServiceCategory.MEALS, -700),  # nothing spent
        (date(2026, 3, 9), dan, small, ServiceCategory.MEALS, 400),
        (date(2026, 4, 1), dan, big, ServiceCategory.MEALS, 5000),  # outside the period
    ]:
        buy(
            holder=holder,
            organisation=organisation,
            category=category,
            amount_pence=amount,
            occurred_on=day,
        )
    period = DemandQuery(start=date(2026, 1, 1), end=date(2026, 3, 1))
    for market_dims, filters in [
        (("category", "locality"), ()),
        (("category",), ()),
        (("category", "locality"), (("category", ("meals",)),)),
    ]:
        query = period.with_changes(group_by=(*market_dims, "provider"), filters=filters)
        in_sql = rollup_concentration(query=query, market_dims=market_dims)
        in_python = market_concentration(
            rows=rollup_figures(query=query, people=False), market_dims=market_dims
        )
        assert in_sql == in_python, market_dims
        assert in_sql, market_dims
    everywhere = rollup_concentration(
        query=period.with_changes(group_by=("category", "locality", "provider")),
        market_dims=("category", "locality"),
    )
    home_care = next(m for m in everywhere if m["category"] == "home_care")
    assert (home_care["spend_pence"], home_care["providers"]) == (13000, 3)
    assert home_care["largest_share"] == 46.2 and home_care["top3_share"] == 100.0
    assert home_care["largest_provider"] in ("Big", "Tied")
    meals = next(m for m in everywhere if m["category"] == "meals")
    assert (meals["locality"], meals["providers"], meals["largest_provider"]) == ("EN5", 1, "Small")


def _across_a_year_end():
    """Purchases from 2024 to 2026 by category, district and provider, with a refund."""
    big, small = provider("Big"), provider("Small")
    ann, bob = people(2)
    [dan] = people(1, postcode="EN5 1AA")
    for day, holder, organisation, category, amount in [
        (date(2024, 11, 5), ann, big, ServiceCategory.HOME_CARE, 1000),  # before the period
        (date(2024, 12, 5), ann, big, ServiceCategory.HOME_CARE, 2000),
        (date(2025, 3, 5), bob, small, ServiceCategory.HOME_CARE, 1200),
        (date(2025, 3, 9), bob, None, ServiceCategory.MEALS, 800),
        (date(2025, 11, 9), dan, small, ServiceCategory.MEALS, 700),
        (date(2025, 11, 10), dan, small, ServiceCategory.MEALS, -700),  # nothing spent
        (date(2025, 12, 1), dan, big, ServiceCategory.TRANSPORT, 5000),  # only after it
        (date(2025, 12, 2), ann, big, ServiceCategory.HOME_CARE, 3000),  # after it, too
        (date(2026, 1, 2), ann, small, ServiceCategory.HOME_CARE, 900),
    ]:
        buy(
            holder=holder,
            organisation=organisation,
            category=category,
            amount_pence=amount,
            occurred_on=day,
        )
    return big, small


def test_a_year_rollup_less_the_months_outside_the_period_equals_a_group_by_over_purchases():
    _across_a_year_end()
    assert demand_rollups_differences() == []  # the year rows included
    years = DemandRollupYear.objects.filter(grouping="category_locality_provider")
    assert set(years.values_list("year", flat=True)) == {2024, 2025, 2026}
    for start, end in [
        (date(2024, 12, 1), date(2025, 11, 1)),  # 2025 less December, plus December 2024
        (date(2024, 1, 1), date(2026, 12, 1)),  # whole years
        (date(2025, 3, 1), date(2025, 4, 1)),  # two months: the months themselves
    ]:
        period = DemandQuery(start=start, end=end)
        for group_by, filters in [
            (("category", "locality", "provider"), ()),
            (("category", "provider"), (("locality", ("N3",)),)),
            (("locality",), (("category", ("home_care",)), ("provider", ("-",)))),
        ]:
            query = period.with_changes(group_by=group_by, filters=filters)
            for people_too in (True, False):
                rows = rollup_figures(query=query, people=people_too)
                expected = purchase_figures(query=query)
                if not people_too:
                    expected = [{**row, "holders": None} for row in expected]
                assert rows == expected, (start, group_by, filters)
    source, _, _ = _cells_source(
        "category_locality_provider", DemandQuery(start=date(2024, 12, 1), end=date(2025, 11, 1))
    )
    assert DemandRollupYear._meta.db_table in source


def test_year_rows_follow_refunds_removals_and_statement_sized_batches():
    big, small = _across_a_year_end()
    gone = list(Purchase.objects.filter(occurred_on__year=2024))
    demand_rollups_apply(purchases=gone, sign=-1)
    Purchase.objects.filter(pk__in=[p.pk for p in gone]).delete()
    assert not DemandRollupYear.objects.filter(year=2024).exists()
    assert demand_rollups_differences() == []
    # Many at once (the set-based path), then taken away again.
    [eve] = people(1)
    many = Purchase.objects.bulk_create(
        [
            Purchase(
                budget_holder=eve,
                organisation=(big, small, None)[number % 3],
                category=(ServiceCategory.HOME_CARE, ServiceCategory.MEALS)[number % 2],
                amount_pence=100 + number,
                occurred_on=date(2025, 1 + number % 12, 1),
                channel="card",
                source_reference=f"years-{number}",
                care_group=eve.care_group,
                postcode_district="N3",
            )
            for number in range(_SET_BASED_FROM + 10)
        ]
    )
    demand_rollups_apply(purchases=many, sign=1)
    assert demand_rollups_differences() == []
    demand_rollups_apply(purchases=many, sign=-1)
    Purchase.objects.filter(pk__in=[p.pk for p in many]).delete()
    assert demand_rollups_differences() == []
    before = set(DemandRollupYear.objects.values_list("pk", "spend_pence", "purchase_count"))
    DemandRollupYear.objects.all().delete()
    assert demand_rollups_differences()
    demand_rollups_rebuild()
    assert (
        set(DemandRollupYear.objects.values_list("pk", "spend_pence", "purchase_count")) == before
    )


@pytest.mark.postgresql  # rollup_concentration is PostgreSQL's
def test_market_concentration_from_year_rows_equals_the_python_figures_from_purchases():
    _across_a_year_end()
    query = DemandQuery(
        start=date(2024, 12, 1),
        end=date(2025, 11, 1),
        group_by=("category", "locality", "provider"),
    )
    markets = ("category", "locality")
    in_sql = rollup_concentration(query=query, market_dims=markets)
    assert in_sql == market_concentration(rows=purchase_figures(query=query), market_dims=markets)
    assert {(m["category"], m["locality"]) for m in in_sql} == {("home_care", "N3")}
