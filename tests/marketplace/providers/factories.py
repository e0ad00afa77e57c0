"""Factories for directory records: a live service with prices, areas, a location and a schedule."""

from datetime import time
from decimal import Decimal

import factory

from marketplace.providers.models import (
    CostOption,
    CostUnit,
    RegularSchedule,
    ServedGroup,
    Service,
    ServiceArea,
    ServiceCareGroup,
    ServiceLanguage,
    ServiceLocation,
)
from marketplace.providers.taxonomy import ServiceCategory
from tests.factories import OrganisationFactory


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Service {n}")
    description = "Help at home with washing, dressing and meals."
    category = ServiceCategory.HOME_CARE
    minimum_age = 18
    accepts_prepayment_card = True

    @factory.post_generation
    def children(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        CostOption.objects.create(
            service=obj, amount_pence=2200, unit=CostUnit.HOUR, option="Weekday visits"
        )
        ServiceCareGroup.objects.create(service=obj, care_group=ServedGroup.OLDER_PEOPLE)
        ServiceArea.objects.create(service=obj, postcode_district="N3")
        ServiceLanguage.objects.create(service=obj, name="English", code="en")
        RegularSchedule.objects.create(service=obj, weekday=0, opens_at=time(8), closes_at=time(20))
        ServiceLocation.objects.create(
            service=obj,
            name="Office",
            address_1="1 Ballards Lane",
            postcode="N3 1XP",
            latitude=Decimal("51.600000"),
            longitude=Decimal("-0.192000"),
        )
