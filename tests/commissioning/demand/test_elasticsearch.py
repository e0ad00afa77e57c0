"""The Elasticsearch path gives exactly the figures the rollups give, on the same purchases."""

from datetime import date

import pytest

from django.core.management import call_command

from commissioning.demand import elasticsearch
from commissioning.demand.disclosure import published_figures
from commissioning.demand.elasticsearch import (
    alias_name,
    es_concentration,
    es_figures,
    es_refresh,
)
from commissioning.demand.selectors import (
    DemandQuery,
    demand_figures,
    demand_spend,
    market_concentration,
    person_month_figures,
    rollup_figures,
)
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
    # Market concentration gathered per market from the cells' buckets: the same table as
    # from the rows.
    for markets in (("category", "locality"), ("category",)):
        by_provider = QUERIES[0].with_changes(group_by=(*markets, "provider"))
        expected = market_concentration(
            rows=rollup_figures(query=by_provider, people=False),
            market_dims=markets,
        )
        assert expected and all(m["providers"] for m in expected)
        assert es_concentration(query=QUERIES[0], market_dims=markets) == expected


def test_a_new_purchase_reaches_the_index_after_commit(settings, use_elasticsearch):
    client = get_client()
    client.indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    [person] = people(1)
    buy(holder=person, amount_pence=4321, occurred_on=date(2026, 3, 3))
    es_refresh()
    rows = demand_figures(query=DemandQuery(start=date(2026, 3, 1), end=date(2026, 3, 1)))
    assert rows == [{"spend_pence": 4321, "purchases": 1, "holders": 1}]


def _cells_now(client) -> dict[str, dict]:
    """Every document of the cells index, by id."""
    elasticsearch.es_refresh()
    found = client.search(index=elasticsearch.cells_alias_name(), size=10_000)["hits"]["hits"]
    return {hit["_id"]: hit["_source"] for hit in found}


def _cells_afresh(client) -> dict[str, dict]:
    """The cells a full build would write from the purchases index as it stands."""
    return {
        action["_id"]: action["_source"]
        for action in elasticsearch._cells_from(client, alias_name())
    }


def _spy_on_indexes(monkeypatch) -> list[str]:
    searched = []
    real = elasticsearch._search

    def spy(client, index, **body):
        searched.append(index)
        return real(client, index, **body)

    monkeypatch.setattr(elasticsearch, "_search", spy)
    return searched


def test_the_cells_index_follows_purchases_added_moved_and_removed(
    settings, use_elasticsearch, monkeypatch
):
    from django.db import transaction

    from commissioning.demand.services import demand_rollups_apply
    from marketplace.payments.models import Purchase

    client = get_client()
    client.indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    _seed()  # each purchase indexed after its commit: the cells index is built up one by one
    cells = _cells_now(client)
    assert cells == _cells_afresh(client)
    assert sum(cell["purchases"] for cell in cells.values()) == Purchase.objects.count()
    # A full build pages through each month's cells: the same cells two at a time.
    monkeypatch.setattr(elasticsearch, "PAGE", 2)
    assert _cells_afresh(client) == cells
    monkeypatch.undo()

    # Purchases move (a card merchant confirmed as another provider, as the payments service
    # does it: taken out with their old values, put back with the new) and some go.
    big = Purchase.objects.filter(organisation__name="Big Care Ltd").order_by("pk")
    moved = list(big[:4])
    other = provider("Newcomer Ltd")
    with transaction.atomic():
        demand_rollups_apply(purchases=moved, sign=-1)
        for purchase in moved:
            purchase.organisation = other
            purchase.occurred_on = date(2026, 2, 20)
        Purchase.objects.bulk_update(moved, ["organisation", "occurred_on"])
        demand_rollups_apply(purchases=moved, sign=1)
    gone = list(Purchase.objects.filter(organisation__name="Small CIC"))
    with transaction.atomic():
        demand_rollups_apply(purchases=gone, sign=-1)
        Purchase.objects.filter(pk__in=[p.pk for p in gone]).delete()

    cells = _cells_now(client)
    assert cells == _cells_afresh(client)
    assert not [
        cell for cell in cells.values() if cell["organisation_id"] == str(gone[0].organisation_id)
    ]
    assert sum(cell["purchases"] for cell in cells.values()) == Purchase.objects.count()

    searched = _spy_on_indexes(monkeypatch)
    for query in QUERIES:
        searched.clear()
        assert es_figures(query=query) == rollup_figures(query=query), query
        cell_dims = set(query.group_by) | {name for name, _ in query.filters}
        if person_month_figures(query=query) is not None:
            # People, spend and purchases in one rollup statement: nothing asked of the index.
            expected = set()
        elif cell_dims <= elasticsearch.CELL_DIMENSIONS:
            expected = {elasticsearch.cells_alias_name()}
        else:
            expected = {alias_name()}
        assert set(searched) == expected, query
        # Spend alone always comes from the index.
        searched.clear()
        spend = [{**row, "holders": None} for row in rollup_figures(query=query, people=False)]
        assert es_figures(query=query, people=False) == spend, query
        assert searched
    # The analysts' market grid (category x locality x provider, people counted) is one of them.
    assert person_month_figures(query=QUERIES[6]) is not None


def test_without_a_cells_index_figures_come_from_the_purchases(
    settings, use_elasticsearch, monkeypatch, caplog
):

    client = get_client()
    client.indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    _seed()
    # A deployment upgraded from an index without cells: only the purchases index exists.
    client.indices.delete(index=f"{elasticsearch.cells_alias_name()}*")
    [person] = people(1)
    buy(holder=person, amount_pence=777, occurred_on=date(2026, 2, 2))  # indexed all the same
    es_refresh()
    searched = _spy_on_indexes(monkeypatch)
    query = QUERIES[6]  # category x locality x provider, spend alone (market concentration)
    spend = [{**row, "holders": None} for row in rollup_figures(query=query, people=False)]
    assert es_figures(query=query, people=False) == spend
    assert searched[-1] == alias_name()
    assert "cells index" in caplog.text and "reindex_demand_purchases" in caplog.text

    # The rebuild brings the cells index back, and figures come from it again.
    call_command("reindex_demand_purchases")
    es_refresh()
    searched.clear()
    assert es_figures(query=query, people=False) == spend
    assert set(searched) == {elasticsearch.cells_alias_name()}


def test_concentration_from_the_cells_keeps_the_rows_order_for_ties(settings, use_elasticsearch):
    """Two markets alike in share and spend keep group order; of two equal largest providers
    the first in provider order is named; a provider refunded below nothing, and purchases
    with no provider, take no share."""
    client = get_client()
    client.indices.delete(index=f"{alias_name()}*", ignore_unavailable=True)
    settings.ELASTICSEARCH_URL = ""
    first, second, refunded = provider("Alpha Care"), provider("Beta Care"), provider("Gamma")
    for postcode in ("N2 8AA", "N12 0AA", "N1 1AA"):
        [person] = people(1, postcode=postcode)
        for organisation in (second, first):
            buy(holder=person, organisation=organisation, amount_pence=5000)
        buy(holder=person, organisation=refunded, amount_pence=700)
        buy(holder=person, organisation=refunded, amount_pence=-900)
        buy(holder=person, amount_pence=3000)  # no provider
    query = DemandQuery(start=date(2026, 3, 1), end=date(2026, 3, 1))
    markets = ("category", "locality")
    expected = market_concentration(
        rows=rollup_figures(
            query=query.with_changes(group_by=(*markets, "provider")), people=False
        ),
        market_dims=markets,
    )
    assert [m["locality"] for m in expected] == ["N1", "N12", "N2"]
    assert {m["largest_provider"] for m in expected} == {
        min(first, second, key=lambda o: str(o.pk)).name
    }
    assert {m["providers"] for m in expected} == {2}

    settings.ELASTICSEARCH_URL = use_elasticsearch
    call_command("reindex_demand_purchases")
    es_refresh()
    assert es_concentration(query=query, market_dims=markets) == expected
