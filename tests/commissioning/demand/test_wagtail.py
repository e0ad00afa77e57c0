"""Commissioners keep the council's reference data and statement commentary in Wagtail."""

from datetime import date

import pytest

from django.contrib.auth.models import Group

from commissioning.demand.models import FairCostRate, Unit
from marketplace.accounts.roles import Role
from marketplace.providers.taxonomy import ServiceCategory

pytestmark = pytest.mark.django_db


def test_the_commissioners_group_holds_admin_access_and_the_snippets():
    codenames = set(
        Group.objects.get(name="Commissioners").permissions.values_list("codename", flat=True)
    )
    assert "access_admin" in codenames
    for model in ("faircostrate", "blockcontract", "marketpositioncommentary"):
        assert {f"add_{model}", f"change_{model}", f"delete_{model}", f"view_{model}"} <= codenames
    assert "view_unrounded_figures" not in codenames  # analysts are chosen one by one


def test_commissioners_open_the_commissioning_snippets(client_for):
    client, _ = client_for(Role.COMMISSIONER)
    FairCostRate.objects.create(
        category=ServiceCategory.HOME_CARE,
        unit=Unit.HOUR,
        rate_pence=2350,
        valid_from=date(2026, 4, 1),
        source="Fair Cost of Care 2026",
    )
    listing = client.get("/admin/snippets/demand/faircostrate/")
    assert listing.status_code == 200
    assert "Home care" in listing.content.decode()
    for model in ("faircostrate", "blockcontract", "marketpositioncommentary"):
        assert client.get(f"/admin/snippets/demand/{model}/").status_code == 200
        assert client.get(f"/admin/snippets/demand/{model}/add/").status_code == 200
    provider_client, _ = client_for(Role.PROVIDER_STAFF)
    assert provider_client.get("/admin/snippets/demand/faircostrate/").status_code in (302, 403)
