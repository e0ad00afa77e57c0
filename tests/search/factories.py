"""Directory records for search tests: published services with their child rows."""

from datetime import date, time

from django.utils import timezone

from marketplace.providers.models import (
    CostOption,
    Organisation,
    RegularSchedule,
    Sector,
    Service,
    ServiceAccessibility,
    ServiceArea,
    ServiceCareGroup,
    ServiceLanguage,
    ServiceLocation,
)

_counter = {"n": 0}


def make_organisation(name: str, *, sector: str = Sector.VOLUNTARY, **fields) -> Organisation:
    _counter["n"] += 1
    return Organisation.objects.create(
        name=name,
        slug=fields.pop("slug", f"org-{_counter['n']}"),
        sector=sector,
        live=True,
        **fields,
    )


def make_service(
    name: str,
    *,
    organisation: Organisation | None = None,
    description: str = "Support for adults in Barnet.",
    category: str = "home_care",
    care_groups=("older_people",),
    price_pence: int | None = 2200,
    unit: str = "hour",
    postcode: str | None = "N3 2SB",
    areas=(),
    card: bool = False,
    vacancies: int | None = None,
    cqc_rating: str = "",
    languages=("English",),
    days=(0, 1, 2, 3, 4),
    accessibility=(),
    **fields,
) -> Service:
    organisation = organisation or make_organisation(f"{name} Ltd")
    service = Service.objects.create(
        organisation=organisation,
        name=name,
        description=description,
        category=category,
        accepts_prepayment_card=card,
        vacancies=vacancies,
        vacancies_confirmed_on=date(2026, 11, 1) if vacancies is not None else None,
        cqc_rating=cqc_rating,
        cqc_rating_date=date(2025, 6, 1) if cqc_rating else None,
        live=True,
        last_confirmed_at=fields.pop("last_confirmed_at", timezone.now()),
        **fields,
    )
    for group in care_groups:
        ServiceCareGroup.objects.create(service=service, care_group=group)
    if price_pence is not None:
        CostOption.objects.create(service=service, amount_pence=price_pence, unit=unit)
    if postcode:
        ServiceLocation.objects.create(
            service=service, name=f"{name} office", address_1="1 High Street", postcode=postcode
        )
    for district in areas:
        ServiceArea.objects.create(service=service, postcode_district=district)
    for language in languages:
        ServiceLanguage.objects.create(service=service, name=language)
    for weekday in days:
        RegularSchedule.objects.create(
            service=service, weekday=weekday, opens_at=time(8), closes_at=time(18)
        )
    for feature in accessibility:
        ServiceAccessibility.objects.create(service=service, feature=feature)
    return service
