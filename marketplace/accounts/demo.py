"""Demo people: staff for every role, and budget holders in every care group with proxies."""

import hashlib
from datetime import date, timedelta

from django_otp.plugins.otp_totp.models import TOTPDevice

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from cms.demo import DemoContext

from .models import BudgetHolder, CareGroup, Delegation, Relationship, User

DOMAIN = "demo.scc.test"

STAFF = [
    # (email local part, first, last, groups, superuser, role label)
    ("commissioner", "Chloe", "Adeyemi", ["Commissioners"], False, "Commissioner"),
    ("grants", "Graham", "Patel", ["Grant officers"], False, "Grant officer"),
    ("grant.reviewer", "Rosa", "Lindqvist", ["Grant officers"], False, "Grant reviewer"),
    ("monitoring", "Moira", "Kelly", ["Monitoring officers"], False, "Monitoring officer"),
    ("editor", "Ed", "Nwosu", ["Editors"], False, "CMS editor"),
    ("moderator", "Maya", "Cohen", ["Moderators"], False, "CMS moderator"),
    ("admin", "Ada", "Brennan", [], True, "Administrator"),
]

# Outward codes in the demo borough, with the share of residents in each.
DISTRICTS = [
    "N2",
    "N3",
    "N11",
    "N12",
    "N14",
    "N20",
    "EN4",
    "EN5",
    "HA8",
    "NW4",
    "NW7",
    "NW9",
    "NW11",
]

FIRST_NAMES = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Grace",
    "Sophia",
    "Lily",
    "Freya",
    "Aisha",
    "Fatima",
    "Zainab",
    "Priya",
    "Anjali",
    "Mei",
    "Yusuf",
    "Oliver",
    "George",
    "Noah",
    "Arthur",
    "Leo",
    "Harry",
    "Oscar",
    "Muhammad",
    "Jacob",
    "Kwame",
    "Tomasz",
    "Dmitri",
    "Sean",
    "Ravi",
    "David",
    "Margaret",
    "Patricia",
    "Brian",
    "Kenneth",
    "Doreen",
    "Irene",
    "Stanley",
    "Barbara",
    "Hyacinth",
    "Winston",
    "Gloria",
    "Esther",
    "Moshe",
    "Rivka",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Shah",
    "Khan",
    "Ahmed",
    "Okafor",
    "Mensah",
    "Nowak",
    "Kowalski",
    "Cohen",
    "Levy",
    "Murphy",
    "O'Brien",
    "Evans",
    "Thomas",
    "Roberts",
    "Walker",
    "Wright",
    "Robinson",
    "Thompson",
    "White",
    "Hughes",
    "Edwards",
    "Green",
    "Hall",
    "Wood",
    "Harris",
    "Martin",
    "Jackson",
    "Clarke",
    "Lewis",
    "Singh",
    "Kaur",
    "Chen",
    "Wong",
]
CARE_GROUP_WEIGHTS = [
    (CareGroup.OLDER_PEOPLE, 45),
    (CareGroup.PHYSICAL_SENSORY, 20),
    (CareGroup.LEARNING_DISABILITY, 22),
    (CareGroup.MENTAL_HEALTH, 13),
]


def demo_totp_key(email: str) -> str:
    """A fixed TOTP key per demo account, so `make demo-code` can print its current code."""
    return hashlib.sha1(f"scc-demo:{email}".encode()).hexdigest()  # noqa: S324 - not a security use


def demo_logins() -> list[tuple[str, str, str]]:
    rows = [(label, f"{local}@{DOMAIN}", "needs a security code") for local, *_, label in STAFF]
    rows += [
        ("Budget holder", f"budget.holder@{DOMAIN}", "Sam, has a prepayment card"),
        ("Proxy (daughter)", f"proxy@{DOMAIN}", "acts for her mother, Kamala Shah"),
        ("Provider owner", f"provider@{DOMAIN}", "runs Finchley Lunch Club"),
        ("Provider owner", f"homecare@{DOMAIN}", "runs a home care agency"),
    ]
    return rows


def _postcode(ctx: DemoContext, district: str) -> str:
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{district} {ctx.rng.randint(1, 9)}{ctx.rng.choice(letters)}{ctx.rng.choice(letters)}"


def _birth_date(ctx: DemoContext, care_group: str) -> date:
    age = (
        ctx.rng.randint(66, 97) if care_group == CareGroup.OLDER_PEOPLE else ctx.rng.randint(18, 64)
    )
    return ctx.today - timedelta(days=age * 365 + ctx.rng.randint(0, 364))


def seed(ctx: DemoContext) -> None:
    password = make_password(ctx.password)
    groups = {group.name: group for group in Group.objects.all()}

    staff = {}
    for local, first, last, group_names, superuser, _label in STAFF:
        user = User.objects.create(
            email=f"{local}@{DOMAIN}",
            first_name=first,
            last_name=last,
            password=password,
            is_superuser=superuser,
            is_staff=superuser or any(name in ("Editors", "Moderators") for name in group_names),
        )
        user.groups.set([groups[name] for name in group_names])
        TOTPDevice.objects.create(
            user=user, name="Demo authenticator", key=demo_totp_key(user.email), confirmed=True
        )
        staff[local] = user
    ctx.made["staff"] = staff

    # The people in the journeys.
    sam_user = User.objects.create(
        email=f"budget.holder@{DOMAIN}", first_name="Sam", last_name="Okafor", password=password
    )
    sam = BudgetHolder.objects.create(
        user=sam_user,
        full_name="Samuel Okafor",
        preferred_name="Sam",
        date_of_birth=date(1994, 5, 17),
        care_group=CareGroup.LEARNING_DISABILITY,
        postcode="N12 8QJ",
        council_reference="BAR-100001",
        communication_needs="Easy read, please.",
    )
    priya = User.objects.create(
        email=f"proxy@{DOMAIN}", first_name="Priya", last_name="Shah", password=password
    )
    kamala = BudgetHolder.objects.create(
        full_name="Kamala Shah",
        date_of_birth=date(ctx.today.year - 82, 3, 2),
        care_group=CareGroup.OLDER_PEOPLE,
        postcode="N3 2SB",
        council_reference="BAR-100002",
        communication_needs="Large print. Prefers her daughter Priya to be contacted first.",
    )
    Delegation.objects.create(
        budget_holder=kamala,
        proxy=priya,
        relationship=Relationship.RELATIVE,
        may_pay=True,
        may_review=True,
        may_manage=True,
        starts_on=ctx.today - timedelta(days=400),
        created_by=staff["monitoring"],
    )
    providers = {
        key: User.objects.create(
            email=f"{key}@{DOMAIN}", first_name=first, last_name=last, password=password
        )
        for key, first, last in [("provider", "Lin", "Harper"), ("homecare", "Dev", "Mistry")]
    }
    ctx.made["provider_users"] = providers
    ctx.made["personas"] = {"sam": sam, "kamala": kamala, "priya": priya}

    # Everyone else: budget holders across the borough, a third with a proxy.
    count = 400 * ctx.scale
    population = [group for group, weight in CARE_GROUP_WEIGHTS for _ in range(weight)]
    users, holders = [], []
    for number in range(count):
        first, last = ctx.rng.choice(FIRST_NAMES), ctx.rng.choice(LAST_NAMES)
        care_group = ctx.rng.choice(population)
        has_account = ctx.rng.random() < 0.55
        user = None
        if has_account:
            user = User(
                email=f"person{number:05d}@{DOMAIN}",
                first_name=first,
                last_name=last,
                password=password,
            )
            users.append(user)
        holders.append(
            BudgetHolder(
                user=user,
                full_name=f"{first} {last}",
                date_of_birth=_birth_date(ctx, care_group),
                care_group=care_group,
                postcode=_postcode(ctx, ctx.rng.choice(DISTRICTS)),
                council_reference=f"BAR-{200000 + number}",
            )
        )
    User.objects.bulk_create(users, batch_size=500)
    by_email = {user.email: user for user in User.objects.filter(email__startswith="person")}
    for holder in holders:
        if holder.user is not None:
            holder.user = by_email[holder.user.email]
    BudgetHolder.objects.bulk_create(holders, batch_size=500)
    holders = list(BudgetHolder.objects.order_by("pk"))

    proxy_users, delegations = [], []
    for holder in holders:
        if holder.user_id is None or ctx.rng.random() < 0.12:
            first, last = ctx.rng.choice(FIRST_NAMES), holder.full_name.split(" ")[-1]
            proxy_users.append(
                User(
                    email=f"proxy.{holder.council_reference.lower()}@{DOMAIN}",
                    first_name=first,
                    last_name=last,
                    password=password,
                )
            )
    User.objects.bulk_create(proxy_users, batch_size=500)
    proxies = {user.email: user for user in User.objects.filter(email__startswith="proxy.")}
    relationships = (
        [Relationship.RELATIVE] * 5
        + [Relationship.CARER] * 3
        + [
            Relationship.APPOINTEE,
            Relationship.ADVOCATE,
            Relationship.BROKER,
        ]
    )
    for holder in holders:
        proxy = proxies.get(f"proxy.{holder.council_reference.lower()}@{DOMAIN}")
        if proxy is None:
            continue
        relationship = ctx.rng.choice(relationships)
        delegations.append(
            Delegation(
                budget_holder=holder,
                proxy=proxy,
                relationship=relationship,
                may_pay=relationship != Relationship.ADVOCATE,
                may_review=True,
                may_manage=relationship in (Relationship.APPOINTEE, Relationship.RELATIVE),
                starts_on=ctx.today - timedelta(days=ctx.rng.randint(30, 900)),
                created_by=staff["monitoring"],
            )
        )
    Delegation.objects.bulk_create(delegations, batch_size=500)
    ctx.made["budget_holders"] = holders
