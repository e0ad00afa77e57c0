"""Demo directory: 300 providers (times the scale) in Barnet, across every sector and category.

Prices follow what councils saw at the time (home care about £20-£28 an hour,
day care £40-£70 a session, meals about £6, personal assistants £14-£18 an
hour). Regulated services carry CQC ratings; some services are temporarily
closed, some have not been confirmed for over six months, and a few changes
wait in the moderation queue.
"""

import uuid
from datetime import time, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone
from django.utils.text import slugify

from cms.demo import DemoContext
from marketplace.accounts.demo import DISTRICTS

from .geo import DISTRICT_CENTROIDS
from .models import (
    AccessibilityFeature,
    CostOption,
    CostUnit,
    CqcRating,
    Membership,
    MembershipRole,
    Organisation,
    RegularSchedule,
    Sector,
    ServedGroup,
    Service,
    ServiceAccessibility,
    ServiceArea,
    ServiceCareGroup,
    ServiceLanguage,
    ServiceLocation,
    ServiceStatus,
)
from .services import directory_record_submit
from .taxonomy import ServiceCategory

# The demo borough is the one its people live in.
BOROUGH_DISTRICTS = DISTRICTS
PLACES = {
    "N2": ["East Finchley", "Hampstead Garden Suburb"],
    "N3": ["Finchley", "Church End"],
    "N11": ["Friern Barnet", "New Southgate"],
    "N12": ["North Finchley", "Woodside Park"],
    "N14": ["Southgate", "Oakwood"],
    "N20": ["Whetstone", "Totteridge"],
    "EN4": ["Cockfosters", "East Barnet"],
    "EN5": ["Barnet", "Arkley", "New Barnet"],
    "HA8": ["Edgware", "Burnt Oak"],
    "NW4": ["Hendon", "Brent Cross"],
    "NW7": ["Mill Hill"],
    "NW9": ["Colindale", "West Hendon"],
    "NW11": ["Golders Green", "Temple Fortune"],
}
STREETS = [
    "High Road",
    "Ballards Lane",
    "Regents Park Road",
    "The Broadway",
    "Station Road",
    "Church Lane",
    "Hendon Lane",
    "Totteridge Lane",
    "East End Road",
    "Great North Road",
    "Watling Avenue",
    "Golders Green Road",
]
WORDS = [
    "Willow",
    "Oak",
    "Cedar",
    "Beacon",
    "Harmony",
    "Kindred",
    "Horizon",
    "Bright",
    "Evergreen",
    "Haven",
    "Compass",
    "Meadow",
    "Sunrise",
    "Lantern",
    "Riverside",
    "Heritage",
    "Unity",
    "Pathways",
    "Together",
    "Rowan",
]
LANGUAGES = [
    ("Gujarati", "gu"),
    ("Hindi", "hi"),
    ("Polish", "pl"),
    ("Romanian", "ro"),
    ("Somali", "so"),
    ("Farsi", "fa"),
    ("Hebrew", "he"),
    ("Yiddish", "yi"),
    ("Turkish", "tr"),
    ("Tamil", "ta"),
    ("Cantonese", "yue"),
    ("Arabic", "ar"),
    ("Bengali", "bn"),
    ("British Sign Language", "bfi"),
]

# category: (name patterns, unit, price range in pence, sectors, groups, regulated, options, opening pattern)
CATALOGUE = {
    ServiceCategory.HOME_CARE: (
        [
            "{word} Home Care",
            "{place} Homecare",
            "{word} Hands Care at Home",
            "{place} Care Partners",
        ],
        CostUnit.HOUR,
        (2000, 2800),
        [Sector.PRIVATE, Sector.PRIVATE, Sector.SOCIAL_ENTERPRISE, Sector.VOLUNTARY],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.PHYSICAL_SENSORY, ServedGroup.SELF_FUNDERS],
        True,
        "Help at home with getting up, washing, dressing, meals and medication. Visits from 30 minutes, 7 days a week.",
        "daily",
    ),
    ServiceCategory.PERSONAL_ASSISTANTS: (
        ["{word} PA Services", "{place} Personal Assistants", "{word} Support Choices"],
        CostUnit.HOUR,
        (1400, 1800),
        [Sector.USER_LED, Sector.SOCIAL_ENTERPRISE, Sector.PRIVATE],
        [ServedGroup.LEARNING_DISABILITY, ServedGroup.PHYSICAL_SENSORY, ServedGroup.MENTAL_HEALTH],
        False,
        "Personal assistants matched to you, to support you your way: at home, at work and out and about.",
        "weekdays",
    ),
    ServiceCategory.DAY_OPPORTUNITIES: (
        ["{place} Day Centre", "{word} Day Opportunities", "{word} Activity Hub"],
        CostUnit.SESSION,
        (4000, 7000),
        [Sector.COUNCIL, Sector.VOLUNTARY, Sector.SOCIAL_ENTERPRISE],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.LEARNING_DISABILITY],
        False,
        "Day sessions with art, music, gardening, exercise and a hot lunch. Transport can be arranged.",
        "weekdays",
    ),
    ServiceCategory.SHORT_BREAKS: (
        ["{word} Short Breaks", "{place} Respite House", "{word} Lodge Short Stays"],
        CostUnit.DAY,
        (9000, 16000),
        [Sector.PRIVATE, Sector.VOLUNTARY, Sector.COUNCIL],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.LEARNING_DISABILITY, ServedGroup.CARERS],
        True,
        "Overnight and day stays so you, or the people who care for you, can take a break.",
        "daily",
    ),
    ServiceCategory.MEALS: (
        ["{place} Lunch Club", "{word} Meals on Wheels", "{place} Community Kitchen"],
        CostUnit.MEAL,
        (450, 750),
        [Sector.VOLUNTARY, Sector.VOLUNTARY, Sector.SOCIAL_ENTERPRISE],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.CARERS],
        False,
        "Hot two-course lunches, cooked fresh, eaten together or delivered to your door.",
        "lunch",
    ),
    ServiceCategory.TRANSPORT: (
        ["{place} Community Transport", "{word} Dial-a-Ride", "{word} Accessible Cars"],
        CostUnit.JOURNEY,
        (300, 1500),
        [Sector.VOLUNTARY, Sector.SOCIAL_ENTERPRISE, Sector.PRIVATE],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.PHYSICAL_SENSORY],
        False,
        "Door-to-door accessible minibuses and cars to appointments, shops and activities.",
        "weekdays",
    ),
    ServiceCategory.EQUIPMENT: (
        ["{word} Living Aids", "{place} Mobility Centre", "{word} Telecare"],
        CostUnit.WEEK,
        (300, 2500),
        [Sector.PRIVATE, Sector.SOCIAL_ENTERPRISE, Sector.COUNCIL],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.PHYSICAL_SENSORY, ServedGroup.SELF_FUNDERS],
        False,
        "Equipment, adaptations and telecare alarms, with home assessment and fitting.",
        "weekdays",
    ),
    ServiceCategory.ADVICE: (
        ["{place} Advice Centre", "{word} Advocacy", "{word} Support Brokerage"],
        CostUnit.HOUR,
        (0, 4500),
        [Sector.VOLUNTARY, Sector.USER_LED, Sector.COUNCIL],
        [
            ServedGroup.OLDER_PEOPLE,
            ServedGroup.LEARNING_DISABILITY,
            ServedGroup.MENTAL_HEALTH,
            ServedGroup.CARERS,
        ],
        False,
        "Independent advice, advocacy and help to plan and manage your personal budget.",
        "weekdays",
    ),
    ServiceCategory.SOCIAL_LEISURE: (
        ["{place} Friendship Club", "{word} Arts Collective", "{word} Walking Group"],
        CostUnit.SESSION,
        (300, 2000),
        [Sector.VOLUNTARY, Sector.USER_LED, Sector.SOCIAL_ENTERPRISE],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.LEARNING_DISABILITY, ServedGroup.MENTAL_HEALTH],
        False,
        "Clubs, classes, sport and trips: meet people and try something new.",
        "afternoons",
    ),
    ServiceCategory.BEFRIENDING: (
        ["{place} Befrienders", "{word} Companions", "{word} Good Neighbours"],
        CostUnit.SESSION,
        (0, 1200),
        [Sector.VOLUNTARY, Sector.VOLUNTARY, Sector.USER_LED],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.MENTAL_HEALTH],
        False,
        "Regular visits and phone calls from a trained befriender.",
        "weekdays",
    ),
    ServiceCategory.INTERPRETING: (
        ["{word} Interpreting", "{place} Language Link"],
        CostUnit.HOUR,
        (2500, 4000),
        [Sector.SOCIAL_ENTERPRISE, Sector.PRIVATE],
        [ServedGroup.OLDER_PEOPLE, ServedGroup.PHYSICAL_SENSORY],
        False,
        "Spoken language and British Sign Language interpreters for appointments and meetings.",
        "weekdays",
    ),
}
CATEGORY_WEIGHTS = {
    ServiceCategory.HOME_CARE: 18,
    ServiceCategory.PERSONAL_ASSISTANTS: 8,
    ServiceCategory.DAY_OPPORTUNITIES: 10,
    ServiceCategory.SHORT_BREAKS: 6,
    ServiceCategory.MEALS: 8,
    ServiceCategory.TRANSPORT: 6,
    ServiceCategory.EQUIPMENT: 6,
    ServiceCategory.ADVICE: 8,
    ServiceCategory.SOCIAL_LEISURE: 10,
    ServiceCategory.BEFRIENDING: 7,
    ServiceCategory.INTERPRETING: 3,
}
SECTOR_SUFFIX = {
    Sector.PRIVATE: " Ltd",
    Sector.SOCIAL_ENTERPRISE: " CIC",
    Sector.VOLUNTARY: "",
    Sector.USER_LED: "",
    Sector.COUNCIL: "",
    Sector.CONSORTIUM: "",
}
RATING_WEIGHTS = (
    [CqcRating.OUTSTANDING] * 2
    + [CqcRating.GOOD] * 13
    + [CqcRating.REQUIRES_IMPROVEMENT] * 4
    + [CqcRating.INADEQUATE]
)


def _uuid(ctx: DemoContext) -> uuid.UUID:
    return uuid.UUID(int=ctx.rng.getrandbits(128), version=4)


def _coordinates(ctx: DemoContext, district: str) -> tuple[Decimal, Decimal]:
    latitude, longitude = DISTRICT_CENTROIDS[district]
    return (
        Decimal(str(round(latitude + ctx.rng.uniform(-0.008, 0.008), 6))),
        Decimal(str(round(longitude + ctx.rng.uniform(-0.012, 0.012), 6))),
    )


def _postcode(ctx: DemoContext, district: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{district} {ctx.rng.randint(1, 9)}{ctx.rng.choice(letters)}{ctx.rng.choice(letters)}"


def _schedule(pattern: str) -> list[tuple[int, time, time]]:
    if pattern == "daily":
        return [(day, time(7), time(22)) for day in range(7)]
    if pattern == "lunch":
        return [(day, time(11, 30), time(14)) for day in (1, 3)]
    if pattern == "afternoons":
        return [(day, time(13), time(16)) for day in (0, 2, 4)]
    return [(day, time(9), time(17)) for day in range(5)]


class _Builder:
    """Collects rows for bulk_create, keeping every id deterministic."""

    def __init__(self, ctx: DemoContext):
        self.ctx = ctx
        self.now = timezone.now()
        self.slugs: set[str] = set()
        self.organisations: list[Organisation] = []
        self.services: list[tuple[Service, dict]] = []

    def organisation(self, name: str, sector: str, **fields) -> Organisation:
        slug = base = slugify(name)[:200]
        number = 2
        while slug in self.slugs:
            slug, number = f"{base}-{number}", number + 1
        self.slugs.add(slug)
        rng = self.ctx.rng
        organisation = Organisation(
            oruk_id=_uuid(self.ctx),
            name=name,
            slug=slug,
            sector=sector,
            description=fields.pop("description", f"{name} supports people in Barnet."),
            charity_number=str(rng.randint(1000000, 1199999)) if sector == Sector.VOLUNTARY else "",
            company_number=f"{rng.randint(1000000, 14999999):08d}"
            if sector in (Sector.PRIVATE, Sector.SOCIAL_ENTERPRISE)
            else "",
            email=f"hello@{slug[:40]}.example.org",
            phone=f"020 8{rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            website=f"https://{slug[:40]}.example.org",
            live=True,
            first_published_at=self.now - timedelta(days=rng.randint(200, 900)),
            last_published_at=self.now - timedelta(days=rng.randint(0, 200)),
            **fields,
        )
        self.organisations.append(organisation)
        return organisation

    def service(
        self, organisation: Organisation, category: str, district: str, **overrides
    ) -> Service:
        rng = self.ctx.rng
        patterns, unit, (low, high), _sectors, groups, regulated, description, opening = CATALOGUE[
            category
        ]
        confirmed_days = rng.choice([rng.randint(1, 170)] * 9 + [rng.randint(190, 420)])
        capacity = rng.choice([None, rng.randint(5, 60)])
        service = Service(
            oruk_id=_uuid(self.ctx),
            organisation=organisation,
            name=overrides.pop(
                "name", f"{organisation.name.removesuffix(' Ltd').removesuffix(' CIC')}"
            ),
            description=overrides.pop("description", description),
            category=category,
            minimum_age=18
            if ServedGroup.OLDER_PEOPLE not in groups[:1]
            else 65
            if rng.random() < 0.3
            else 18,
            capacity=capacity,
            vacancies=(rng.randint(0, max(1, capacity // 4)) if capacity else None),
            vacancies_confirmed_on=self.ctx.today - timedelta(days=rng.randint(0, 30))
            if capacity
            else None,
            accepts_prepayment_card=rng.random() < 0.6,
            accepts_marketplace_payment=rng.random() < 0.5,
            accepts_invoice=rng.random() < 0.85,
            contact_name=f"{rng.choice(['Sarah', 'Ade', 'Priya', 'Tom', 'Maria', 'Yusuf', 'Helen'])} "
            f"{rng.choice(['Green', 'Okoro', 'Shah', 'Levy', 'Nowak', 'Hughes'])}",
            contact_phone=organisation.phone,
            contact_email=organisation.email,
            status=ServiceStatus.TEMPORARILY_CLOSED
            if rng.random() < 0.04
            else ServiceStatus.ACTIVE,
            last_confirmed_at=self.now - timedelta(days=confirmed_days),
            live=True,
            first_published_at=organisation.first_published_at,
            last_published_at=organisation.last_published_at,
        )
        if regulated:
            service.cqc_location_id = f"1-{rng.randint(100000000, 9999999999)}"
            service.cqc_rating = rng.choice(RATING_WEIGHTS)
            service.cqc_rating_date = self.ctx.today - timedelta(days=rng.randint(60, 1100))
        price = overrides.pop("price_pence", None)
        if price is None:
            price = rng.randrange(low, high + 1, 10) if high > low else low
            if (
                category in (ServiceCategory.ADVICE, ServiceCategory.BEFRIENDING)
                and rng.random() < 0.5
            ):
                price = 0
        for field, value in overrides.items():
            setattr(service, field, value)
        nearby = [district] + rng.sample(
            [d for d in BOROUGH_DISTRICTS if d != district], k=rng.randint(1, 4)
        )
        languages = [("English", "en")] + rng.sample(LANGUAGES, k=rng.choice([0, 0, 1, 1, 2, 3]))
        features = rng.sample(AccessibilityFeature.values, k=rng.randint(0, 4))
        place = rng.choice(PLACES[district])
        children = {
            "price": (price, unit),
            "groups": list(
                dict.fromkeys([groups[0], *rng.sample(groups, k=rng.randint(0, len(groups) - 1))])
            ),
            "areas": nearby,
            "languages": languages,
            "features": features,
            "schedule": _schedule(opening),
            "location": None
            if category in (ServiceCategory.HOME_CARE, ServiceCategory.PERSONAL_ASSISTANTS)
            and rng.random() < 0.5
            else (f"{place} {rng.choice(['Centre', 'Hall', 'Hub', 'House'])}", district),
            "office_district": district,
        }
        self.services.append((service, children))
        return service

    def save(self) -> tuple[list[Organisation], list[Service]]:
        Organisation.objects.bulk_create(self.organisations, batch_size=500)
        organisations = list(
            Organisation.objects.filter(oruk_id__in=[o.oruk_id for o in self.organisations])
        )
        by_uuid = {o.oruk_id: o for o in organisations}
        for service, _children in self.services:
            service.organisation = by_uuid[service.organisation.oruk_id]
        Service.objects.bulk_create([service for service, _ in self.services], batch_size=500)
        saved = {
            s.oruk_id: s
            for s in Service.objects.filter(oruk_id__in=[s.oruk_id for s, _ in self.services])
        }
        costs, groups, areas, languages, features, schedules, locations = [], [], [], [], [], [], []
        rng = self.ctx.rng
        for draft, children in self.services:
            service = saved[draft.oruk_id]
            price, unit = children["price"]
            costs.append(
                CostOption(
                    oruk_id=_uuid(self.ctx),
                    service=service,
                    amount_pence=price,
                    unit=unit,
                    option="Standard rate",
                    charging_basis="Minimum 1 hour" if unit == CostUnit.HOUR else "",
                )
            )
            if unit == CostUnit.HOUR and price:
                costs.append(
                    CostOption(
                        oruk_id=_uuid(self.ctx),
                        service=service,
                        amount_pence=price + rng.choice([200, 300, 400]),
                        unit=unit,
                        option="Evenings and weekends",
                    )
                )
            groups += [ServiceCareGroup(service=service, care_group=g) for g in children["groups"]]
            areas += [
                ServiceArea(oruk_id=_uuid(self.ctx), service=service, postcode_district=d)
                for d in children["areas"]
            ]
            languages += [
                ServiceLanguage(oruk_id=_uuid(self.ctx), service=service, name=n, code=c)
                for n, c in children["languages"]
            ]
            features += [
                ServiceAccessibility(oruk_id=_uuid(self.ctx), service=service, feature=f)
                for f in children["features"]
            ]
            schedules += [
                RegularSchedule(
                    oruk_id=_uuid(self.ctx), service=service, weekday=d, opens_at=o, closes_at=c
                )
                for d, o, c in children["schedule"]
            ]
            location = children["location"] or (
                f"{service.organisation.name} office",
                children["office_district"],
            )
            latitude, longitude = children.get("coordinates") or _coordinates(self.ctx, location[1])
            locations.append(
                ServiceLocation(
                    oruk_id=_uuid(self.ctx),
                    service_at_location_id=_uuid(self.ctx),
                    service=service,
                    name=location[0][:200],
                    address_1=f"{rng.randint(1, 250)} {rng.choice(STREETS)}",
                    postcode=children.get("postcode") or _postcode(self.ctx, location[1]),
                    postcode_district=location[1],
                    latitude=latitude,
                    longitude=longitude,
                )
            )
        CostOption.objects.bulk_create(costs, batch_size=1000)
        ServiceCareGroup.objects.bulk_create(groups, batch_size=1000)
        ServiceArea.objects.bulk_create(areas, batch_size=1000)
        ServiceLanguage.objects.bulk_create(languages, batch_size=1000)
        ServiceAccessibility.objects.bulk_create(features, batch_size=1000)
        RegularSchedule.objects.bulk_create(schedules, batch_size=1000)
        ServiceLocation.objects.bulk_create(locations, batch_size=1000)
        return organisations, list(saved.values())


def seed(ctx: DemoContext) -> None:
    rng = ctx.rng
    builder = _Builder(ctx)

    # The journey personas' organisations.
    lunch_club = builder.organisation(
        "Finchley Lunch Club",
        Sector.VOLUNTARY,
        description="Volunteers serving hot lunches and good company to older people in Finchley since 1987.",
    )
    lunch = builder.service(
        lunch_club,
        ServiceCategory.MEALS,
        "N3",
        name="Finchley Lunch Club",
        price_pence=600,
        accepts_prepayment_card=True,
        status=ServiceStatus.ACTIVE,
        capacity=40,
        vacancies=6,
        vacancies_confirmed_on=ctx.today - timedelta(days=3),
        last_confirmed_at=timezone.now() - timedelta(days=20),
        description="A hot two-course lunch, tea and company every Tuesday and Thursday at St Mary's Hall, Finchley.",
    )
    agency = builder.organisation(
        "Church End Home Care Ltd",
        Sector.PRIVATE,
        description="A family-run home care agency in Finchley, rated Good by the CQC.",
        cqc_provider_id="1-101234567",
    )
    builder.service(
        agency,
        ServiceCategory.HOME_CARE,
        "N3",
        name="Church End Home Care",
        price_pence=2350,
        accepts_prepayment_card=True,
        accepts_marketplace_payment=True,
        status=ServiceStatus.ACTIVE,
        capacity=60,
        vacancies=5,
        vacancies_confirmed_on=ctx.today - timedelta(days=1),
        last_confirmed_at=timezone.now() - timedelta(days=10),
        description="Help getting up in the morning, washing, dressing, meals and medication, "
        "from carers who know you. Morning visits from 7am, 7 days a week.",
        cqc_location_id="1-2012345678",
        cqc_rating=CqcRating.GOOD,
        cqc_rating_date=ctx.today - timedelta(days=240),
    )

    # A consortium with members, so the sector is on an equal footing too.
    consortium = builder.organisation("Barnet Community Care Consortium", Sector.CONSORTIUM)

    categories = [category for category, weight in CATEGORY_WEIGHTS.items() for _ in range(weight)]
    target = 300 * ctx.scale
    while len(builder.organisations) < target:
        category = rng.choice(categories)
        patterns, _unit, _prices, sectors, *_ = CATALOGUE[category]
        district = rng.choice(BOROUGH_DISTRICTS)
        sector = rng.choice(sectors)
        name = rng.choice(patterns).format(
            word=rng.choice(WORDS), place=rng.choice(PLACES[district])
        )
        organisation = builder.organisation(
            name + SECTOR_SUFFIX[sector],
            sector,
            cqc_provider_id=f"1-{rng.randint(100000000, 999999999)}"
            if CATALOGUE[category][5]
            else "",
        )
        if sector == Sector.VOLUNTARY and rng.random() < 0.15:
            organisation.consortium = consortium
        builder.service(organisation, category, district)
        # Some providers run a second service in a related category.
        if rng.random() < 0.35:
            second = rng.choice([c for c in CATALOGUE if c != category])
            builder.service(
                organisation,
                second,
                rng.choice(BOROUGH_DISTRICTS),
                name=f"{organisation.name.removesuffix(' Ltd').removesuffix(' CIC')}: {second.label}",
            )

    # bulk_create does not follow unsaved foreign keys: the consortium is saved first, members after.
    members = [o for o in builder.organisations if o.consortium is consortium]
    for member in members:
        member.consortium = None
    organisations, services = builder.save()
    saved_consortium = next(o for o in organisations if o.oruk_id == consortium.oruk_id)
    Organisation.objects.filter(oruk_id__in=[m.oruk_id for m in members]).update(
        consortium=saved_consortium
    )

    # Out-of-date records have already been flagged to their providers by the daily check.
    Service.objects.filter(pk__in=[s.pk for s in services]).stale().update(
        stale_flagged_at=timezone.now() - timedelta(days=2)
    )

    users = ctx.made.get("provider_users", {})
    by_uuid = {o.oruk_id: o for o in organisations}
    memberships = []
    if "provider" in users:
        memberships.append(
            Membership(
                organisation=by_uuid[lunch_club.oruk_id],
                user=users["provider"],
                role=MembershipRole.OWNER,
            )
        )
    if "homecare" in users:
        memberships.append(
            Membership(
                organisation=by_uuid[agency.oruk_id],
                user=users["homecare"],
                role=MembershipRole.OWNER,
            )
        )
    Membership.objects.bulk_create(memberships)

    # Council directory staff: the demo content editor also edits the directory.
    staff = ctx.made.get("staff", {})
    directory_editors = Group.objects.filter(name="Directory editors").first()
    if directory_editors and staff.get("editor"):
        staff["editor"].groups.add(directory_editors)

    # A few changes waiting for moderation.
    requester = users.get("provider")
    lunch_saved = next(s for s in services if s.oruk_id == lunch.oruk_id)
    supper = Service(
        organisation=by_uuid[lunch_club.oruk_id],
        name="Friday Supper Club",
        category=ServiceCategory.MEALS,
        description="A light supper and a film on Friday evenings at St Mary's Hall.",
        accepts_prepayment_card=True,
        minimum_age=60,
    )
    supper.cost_options = [CostOption(amount_pence=550, unit=CostUnit.MEAL, option="Supper")]
    supper.care_groups = [ServiceCareGroup(care_group=ServedGroup.OLDER_PEOPLE)]
    supper.areas = [ServiceArea(postcode_district="N3")]
    supper.schedules = [RegularSchedule(weekday=4, opens_at=time(17, 30), closes_at=time(20))]
    directory_record_submit(record=supper, user=requester)
    for service in rng.sample([s for s in services if s.pk != lunch_saved.pk], k=3):
        draft = Service.objects.get(pk=service.pk)
        draft.description = f"{service.description} New for this year: evening sessions."
        directory_record_submit(record=draft, user=None)

    ctx.made["organisations"] = organisations
    ctx.made["services"] = services
    ctx.made["lunch_club"] = by_uuid[lunch_club.oruk_id]
    ctx.made["homecare_agency"] = by_uuid[agency.oruk_id]
