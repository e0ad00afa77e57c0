"""The Elasticsearch path gives exactly the figures the rollups give, on the same purchases."""

from datetime import date

import pytest

from django.core.management import call_command

from commissioning.demand import elasticsearch
from commissioning.demand.disclosure import published_figures
from commissioning.demand.elasticsearch import alias_name, es_refresh
from commissioning.demand.selectors import DemandQuery, demand_figures, demand_spend
from marketplace.accounts.models import CareGroup
from marketplace.payments.models import Channel
from marketplace.providers.taxonomy import ServiceCategory
from search.client import get_client

from .factories import buy, people, provider

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.elasticsearch]

QUERIES = [
    DemandQuery(start=date(2026, 1, 1), end=date(2026, 3, 1)),
    DemandQuery(start=date(2026, 1, 1), end=date(2026, 3, 1), group_by=("category",)),
    DemandQuery(start=date(2026, 1, 1), end=date(2026, 3, 1), group_by=("category", "locality")),
    DemandQuery(start=date(2026, 2, 1), end=date(2026, 3, 1), group_by=("month", "provider")),
    DemandQuery(
        start=date(2026, 1, 1),
        end=date(2026, 3, 1),
        group_by=("care_group", "sector"),
        filters=(("locality", ("N2", "N3")),),
    ),
    # Groupings answered by one key field each (the dashboard's grids and the analysts' market
    # breakdown), including the one searched in parts by category.
    DemandQuery(start=date(2026, 1, 1), end=date(2026, 3, 1), group_by=("provider", "category")),
    DemandQuery(
        start=date(2026, 1, 1),
        end=date(2026, 3, 1),
        group_by=("category", "locality", "provider"),
    ),
    DemandQuery(
        start=date(2026, 1, 1),
        end=date(2026, 3, 1),
        group_by=("locality", "provider", "category"),
        filters=(("category", ("home_care", "transport")),),
    ),
    DemandQuery(
        start=date(2026, 1, 1), end=date(2026, 3, 1), group_by=("month", "category", "locality")
    ),
    DemandQuery(start=date(2026, 2, 1), end=date(2026, 2, 1), group_by=("locality", "month")),
]


def _seed():
    big, small = provider("Big Care Ltd"), provider("Small CIC")
    months = [date(2026, 1, 9), date(2026, 2, 9), date(2026, 3, 9)]
    for index, person in enumerate(people(14, postcode="N2 8AA") + people(5, postcode="N3 2SB")):
        for month in months[: 1 + index % 3]:
            buy(
                holder=person,
                organisation=big if index % 4 else small,
                amount_pence=1000 + index * 37,
                occurred_on=month,
            )
    for person in people(9, postcode="N12 0AA", care_group=CareGroup.MENTAL_HEALTH):
        buy(
            holder=person,
            category=ServiceCategory.TRANSPORT,
            amount_pence=650,
            channel=Channel.CARD,
            occurred_on=months[1],
        )
        buy(
            holder=person,
            category=ServiceCategory.TRANSPORT,
            amount_pence=-100,
            channel=Channel.CARD,
            occurred_on=months[1],
        )


def test_elasticsearch_and_rollups_give_identical_figures(settings, use_elasticsearch, monkeypatch):
    client = get_client()
    client.indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    settings.ELASTICSEARCH_URL = ""
    _seed()
    from_rollups = [demand_figures(query=q) for q in QUERIES]
    # Spend alone (market concentration): the rollups may still give people where their cells
    # hold them; Elasticsearch leaves them out.
    spend_rollups = [[{**row, "holders": None} for row in demand_spend(query=q)] for q in QUERIES]
    published_queries = [
        QUERIES[2],
        QUERIES[0].with_changes(group_by=("category", "provider")),
        QUERIES[0].with_changes(group_by=("month",), filters=(("category", ("home_care",)),)),
        QUERIES[0].with_changes(group_by=("sector",)),
    ]
    published_rollups = [published_figures(query=q) for q in published_queries]
    # Small CIC's cells are small: the provider grid hides some cells, so the exclusions are used.
    assert published_rollups[1].hidden_cells > 0
    assert from_rollups[0][0]["purchases"] == 19 * 0 + sum(1 + i % 3 for i in range(19)) + 18

    settings.ELASTICSEARCH_URL = use_elasticsearch
    call_command("reindex_demand_purchases")
    es_refresh()
    from_es = [demand_figures(query=q) for q in QUERIES]
    assert from_es == from_rollups
    assert [demand_spend(query=q) for q in QUERIES] == spend_rollups
    # More keys than one request returns: the terms aggregation's first page, then composite
    # pages after its last key; and more parts by category than there are categories bought.
    monkeypatch.setattr(elasticsearch, "PAGE", 2)
    monkeypatch.setattr(elasticsearch, "CATEGORY_PARTS", 5)
    assert [demand_figures(query=q) for q in QUERIES] == from_rollups
    assert [demand_spend(query=q) for q in QUERIES] == spend_rollups
    monkeypatch.undo()
    assert [published_figures(query=q) for q in published_queries] == published_rollups


def test_a_new_purchase_reaches_the_index_after_commit(settings, use_elasticsearch):
    client = get_client()
    client.indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    [person] = people(1)
    buy(holder=person, amount_pence=4321, occurred_on=date(2026, 3, 3))
    es_refresh()
    rows = demand_figures(query=DemandQuery(start=date(2026, 3, 1), end=date(2026, 3, 1)))
    assert rows == [{"spend_pence": 4321, "purchases": 1, "holders": 1}]
