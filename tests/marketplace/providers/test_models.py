"""Directory records: list-like attributes are plain rows, so filters work on SQLite and PostgreSQL."""

from datetime import time

import pytest

from django.db import IntegrityError, transaction

from marketplace.providers.models import (
    Organisation,
    RegularSchedule,
    Sector,
    Service,
    ServiceAccessibility,
    ServiceLocation,
    ServiceStatus,
)
from tests.factories import OrganisationFactory

from .factories import ServiceFactory

pytestmark = pytest.mark.django_db


def test_search_filters_are_plain_joins():
    card = ServiceFactory(name="Takes card", accepts_prepayment_card=True)
    ServiceAccessibility.objects.create(service=card, feature="hearing_loop")
    ServiceFactory(name="Invoice only", accepts_prepayment_card=False)
    published = Service.objects.published()
    assert list(
        published.filter(care_groups__care_group="older_people")
        .order_by("name")
        .values_list("name", flat=True)
    ) == [
        "Invoice only",
        "Takes card",
    ]
    assert list(
        published.filter(accessibility__feature="hearing_loop").values_list("name", flat=True)
    ) == ["Takes card"]
    assert (
        published.filter(cost_options__amount_pence__lte=2200, cost_options__unit="hour")
        .distinct()
        .count()
        == 2
    )
    assert published.filter(languages__code="en", schedules__weekday=0).distinct().count() == 2
    assert published.filter(areas__postcode_district="N3").distinct().count() == 2


def test_temporarily_closed_services_stay_visible_but_inactive_ones_do_not():
    ServiceFactory(name="Paused", status=ServiceStatus.TEMPORARILY_CLOSED)
    ServiceFactory(name="Stopped", status=ServiceStatus.INACTIVE)
    assert list(Service.objects.published().values_list("name", flat=True)) == ["Paused"]


def test_consortium_members():
    consortium = OrganisationFactory(name="Barnet Care Consortium", sector=Sector.CONSORTIUM)
    member = OrganisationFactory(name="Member charity", consortium=consortium)
    assert list(consortium.members.all()) == [member]


def test_slugs_are_unique_and_made_from_the_name():
    first = Organisation.objects.create(name="Age Care Barnet", sector=Sector.VOLUNTARY)
    second = Organisation.objects.create(name="Age Care Barnet", sector=Sector.PRIVATE)
    assert (first.slug, second.slug) == ("age-care-barnet", "age-care-barnet-2")
    assert first.oruk_id != second.oruk_id


def test_location_postcode_is_normalised_and_placed():
    location = ServiceLocation.objects.create(
        service=ServiceFactory(children=False), name="Hall", address_1="1 Road", postcode="nw4 4be"
    )
    assert location.postcode == "NW4 4BE" and location.postcode_district == "NW4"
    assert 51.5 < float(location.latitude) < 51.7


def test_schedules_must_close_after_they_open():
    service = ServiceFactory(children=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        RegularSchedule.objects.create(
            service=service, weekday=0, opens_at=time(17), closes_at=time(9)
        )


def test_age_range_must_be_in_order():
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceFactory(children=False, minimum_age=65, maximum_age=18)
