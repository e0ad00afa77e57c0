"""Purchases for demand tests, recorded through the real service so the rollups follow."""

import itertools
from datetime import date

from marketplace.accounts.models import CareGroup
from marketplace.payments.models import Channel
from marketplace.payments.services import purchase_record
from marketplace.providers.models import Sector
from marketplace.providers.taxonomy import ServiceCategory
from tests.factories import BudgetHolderFactory, OrganisationFactory

_references = itertools.count(1)


def buy(
    *,
    holder=None,
    organisation=None,
    category=ServiceCategory.HOME_CARE,
    amount_pence=2000,
    occurred_on=date(2026, 3, 10),
    channel=Channel.MARKETPLACE,
):
    """Record one purchase through ``purchase_record`` (and so through the rollups)."""
    holder = holder or BudgetHolderFactory()
    purchase, _ = purchase_record(
        budget_holder=holder,
        amount_pence=amount_pence,
        occurred_on=occurred_on,
        channel=channel,
        source_reference=f"test-{next(_references)}",
        organisation=organisation,
        category=category,
    )
    return purchase


def people(count, *, postcode="N3 2SB", care_group=CareGroup.OLDER_PEOPLE):
    return [BudgetHolderFactory(postcode=postcode, care_group=care_group) for _ in range(count)]


def provider(name="Provider", sector=Sector.PRIVATE):
    return OrganisationFactory(name=name, sector=sector)
