"""The rollups' set-based path: many purchases at once (imports, reclassifying a merchant)."""

from datetime import date

import pytest

from commissioning.demand.models import DemandRollup, DemandRollupMember
from commissioning.demand.services import (
    _SET_BASED_FROM,
    demand_rollups_apply,
    demand_rollups_apply_sql,
    demand_rollups_differences,
)
from marketplace.payments.models import Channel, MatchStatus, Purchase
from marketplace.providers.taxonomy import ServiceCategory

from .factories import people, provider

pytestmark = pytest.mark.django_db

CATEGORIES = [ServiceCategory.HOME_CARE, ServiceCategory.MEALS, ServiceCategory.TRANSPORT]


def _purchases(count, holders, organisations):
    """Saved without touching the rollups, as a bulk writer does before applying them."""
    rows = []
    for number in range(count):
        holder = holders[number % len(holders)]
        organisation = organisations[number % len(organisations)]
        rows.append(
            Purchase(
                budget_holder=holder,
                organisation=organisation,
                category=CATEGORIES[number % len(CATEGORIES)],
                amount_pence=(100 + number) * (-1 if number % 13 == 0 else 1),
                occurred_on=date(2026, 1 + number % 4, 1 + number % 28),
                channel=Channel.CARD_STATEMENT,
                source_reference=f"bulk-{number}",
                match_status=MatchStatus.MATCHED if organisation else MatchStatus.CATEGORY_ONLY,
                care_group=holder.care_group,
                postcode_district=holder.postcode_district,
                sector=organisation.sector if organisation else "",
            )
        )
    return Purchase.objects.bulk_create(rows)


@pytest.fixture
def many():
    holders = people(5) + people(4, postcode="EN5 4AA")
    organisations = [provider("Carers Ltd"), provider("Meals Ltd"), None]
    return _purchases(_SET_BASED_FROM + 50, holders, organisations)


def test_many_purchases_at_once_equal_a_group_by_over_purchases(many):
    cells = demand_rollups_apply(purchases=many, sign=1)
    assert cells == DemandRollup.objects.count()
    assert demand_rollups_differences() == []
    total = DemandRollup.objects.filter(grouping="total")
    assert sum(total.values_list("purchase_count", flat=True)) == len(many)
    assert {cell.holder_count for cell in total} == {9}


def test_reclassifying_many_purchases_moves_spend_and_people(many):
    demand_rollups_apply(purchases=many, sign=1)
    moved = [p for p in many if p.category == ServiceCategory.MEALS]
    assert len(moved) >= _SET_BASED_FROM // 3
    moved += [p for p in many if p.category != ServiceCategory.MEALS][:_SET_BASED_FROM]
    demand_rollups_apply(purchases=moved, sign=-1)
    for purchase in moved:
        purchase.category = ServiceCategory.ADVICE
        purchase.organisation = None
        purchase.sector = ""
    Purchase.objects.bulk_update(moved, ["category", "organisation", "sector"])
    demand_rollups_apply(purchases=moved, sign=1)
    assert demand_rollups_differences() == []
    assert not DemandRollup.objects.filter(
        grouping="category", category=ServiceCategory.MEALS
    ).exists()


def test_taking_every_purchase_away_leaves_no_cells_or_members(many):
    demand_rollups_apply(purchases=many, sign=1)
    demand_rollups_apply(purchases=many, sign=-1)
    assert not DemandRollup.objects.exists()
    assert not DemandRollupMember.objects.exists()


def test_purchases_named_by_a_query_are_applied_without_reading_them(many):
    table = Purchase._meta.db_table
    demand_rollups_apply_sql(
        purchases_sql=f"SELECT * FROM {table} WHERE amount_pence > %s",  # noqa: S608
        params=[0],
        sign=1,
    )
    refunds = [p for p in many if p.amount_pence < 0]
    assert refunds
    demand_rollups_apply(purchases=refunds, sign=1)  # the small path adds the rest
    assert demand_rollups_differences() == []


def test_the_sign_must_be_one_or_minus_one():
    with pytest.raises(ValueError, match="sign"):
        demand_rollups_apply_sql(purchases_sql="SELECT * FROM payments_purchase", sign=2)
