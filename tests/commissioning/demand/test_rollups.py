from datetime import date

import pytest

from django.core.management import call_command

from commissioning.demand.models import DemandRollup, DemandRollupMember
from commissioning.demand.services import (
    demand_rollup_apply,
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

    cell = DemandRollup.objects.get()
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

    assert sum(DemandRollup.objects.values_list("holder_count", flat=True)) == 3
    distinct = DemandRollupMember.objects.values("budget_holder_id").distinct().count()
    assert distinct == 2


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

    cell = DemandRollup.objects.get()
    assert cell.category == ServiceCategory.MEALS
    assert (cell.spend_pence, cell.purchase_count, cell.holder_count) == (900, 1, 1)
    assert DemandRollupMember.objects.count() == 1
    assert demand_rollups_differences() == []


def test_a_refund_reduces_spend_but_the_person_still_counts():
    [ann] = people(1)
    buy(holder=ann, amount_pence=5000)
    buy(holder=ann, amount_pence=-1000)
    cell = DemandRollup.objects.get()
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

    assert demand_rollups_rebuild() == (2, 2)
    assert demand_rollups_differences() == []


def test_rebuild_command_reports_and_repairs(capsys):
    [ann] = people(1)
    buy(holder=ann)
    DemandRollup.objects.all().delete()
    call_command("rebuild_demand_rollups")
    assert "1 cells" in capsys.readouterr().out
    assert demand_rollups_differences() == []
    call_command("rebuild_demand_rollups", "--check")
    assert "in step" in capsys.readouterr().out
