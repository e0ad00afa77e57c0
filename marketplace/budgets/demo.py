"""Demo budgets: a budget and support plan for every demo budget holder, 12 months of
loads and card spending through the real services, Stripe card events through the
real webhook, some blocked-shop declines, and one budget with about 10 weeks unspent.
"""

import csv
import io
from collections import defaultdict
from datetime import datetime, time, timedelta

from django.conf import settings
from django.test import RequestFactory, override_settings
from django.utils import timezone

from cms.demo import DemoContext
from marketplace.accounts.models import CareGroup
from marketplace.payments.mcc import MCC_CATEGORIES
from marketplace.providers.taxonomy import ServiceCategory

from .event_player import BLOCKED_MERCHANTS, EVERYDAY_MERCHANTS, Merchant, Signer, play_payment
from .models import Authorization, Card, CardScheme, Deployment, LoadSchedule, StripeEvent
from .services import budget_create, budget_loads_post_due, statement_import

ANNUAL_POUNDS = {
    CareGroup.OLDER_PEOPLE: (6_000, 22_000),
    CareGroup.PHYSICAL_SENSORY: (8_000, 30_000),
    CareGroup.LEARNING_DISABILITY: (12_000, 40_000),
    CareGroup.MENTAL_HEALTH: (4_000, 15_000),
}
OUTCOMES = {
    CareGroup.OLDER_PEOPLE: [
        "Stay living in my own home",
        "Get up and dressed every morning",
        "See friends at the lunch club",
    ],
    CareGroup.PHYSICAL_SENSORY: [
        "Get to work and back",
        "Keep my flat the way I like it",
        "Swim twice a week",
    ],
    CareGroup.LEARNING_DISABILITY: [
        "Go out on trips with friends",
        "Learn to cook for myself",
        "Find a volunteering job",
    ],
    CareGroup.MENTAL_HEALTH: [
        "Keep well and out of hospital",
        "Join a walking group",
        "Manage my money",
    ],
}
# Shops people use that are not in the directory (category by merchant code).
HIGH_STREET = [
    Merchant("Tesco Express", "grocery_stores_supermarkets", "5411", "N12 0DR"),
    Merchant("Boots Pharmacy", "drug_stores_and_pharmacies", "5912", "N12 8NP"),
    Merchant("Barnet Taxis", "taxicabs_limousines", "4121", "EN5 4AA"),
    Merchant(
        "TfL Travel",
        "local_suburban_commuter_passenger_transportation_including_ferries",
        "4111",
        "",
    ),
    Merchant("Odeon Cinema", "motion_picture_theaters", "7832", "N12 0GA"),
    Merchant("Finchley Leisure Centre", "sports_clubs_fields", "7941", "N12 0GA"),
    Merchant("Greggs", "fast_food_restaurants", "5814", "N3 1DH"),
    Merchant("Careline Alarms", "medical_services", "8099", ""),
]
STATEMENT_SCHEMES = [CardScheme.DEFAULT, CardScheme.ALLPAY, CardScheme.PFS, CardScheme.EML]
STRIPE_HOLDERS = 10
DEMO_WEBHOOK_SECRET = "whsec_demo_only"  # noqa: S105 - used only when no real secret is set


def _directory_merchants() -> list[Merchant]:
    from marketplace.providers.models import ServiceLocation

    mcc_for = {}
    for mcc, category in MCC_CATEGORIES.items():
        mcc_for.setdefault(category, mcc)
    merchants, seen = [], set()
    for location in ServiceLocation.objects.select_related("service__organisation").order_by("pk")[
        :300
    ]:
        organisation = location.service.organisation
        if organisation.pk in seen:
            continue
        seen.add(organisation.pk)
        category = ServiceCategory(location.service.category)
        merchants.append(
            Merchant(organisation.name[:60], "", mcc_for.get(category, "7299"), location.postcode)
        )
    return merchants


def seed(ctx: DemoContext) -> None:
    personas = ctx.made.get("personas", {})
    holders = [
        holder for holder in [personas.get("sam"), personas.get("kamala")] if holder is not None
    ]
    holders += [holder for holder in ctx.made.get("budget_holders", []) if holder not in holders]
    if not holders:
        return
    today = ctx.today
    starts_on = today - timedelta(days=364)
    ends_on = starts_on + timedelta(days=729)
    budgets = []
    for holder in holders:
        low, high = ANNUAL_POUNDS[CareGroup(holder.care_group)]
        is_sam = holder == personas.get("sam")
        is_kamala = holder == personas.get("kamala")
        cash_allowed = ctx.rng.random() < 0.2 and not is_sam
        budgets.append(
            budget_create(
                budget_holder=holder,
                annual_amount_pence=(
                    18_200 if is_sam else 14_300 if is_kamala else ctx.rng.randint(low, high)
                )
                * 100,
                starts_on=starts_on,
                ends_on=ends_on,
                load_schedule=LoadSchedule.WEEKLY
                if ctx.rng.random() < 0.25
                else LoadSchedule.FOUR_WEEKLY,
                deployment=(
                    Deployment.MIXED
                    if is_kamala or ctx.rng.random() < 0.15
                    else Deployment.DIRECT_PAYMENT
                ),
                outcomes=OUTCOMES[CareGroup(holder.care_group)],
                cash_allowed=cash_allowed,
                cash_limit_pence=10_000 if cash_allowed else 0,
                approval_required_above_pence=50_000
                if is_kamala
                else (100_000 if ctx.rng.random() < 0.3 else None),
                agreed_on=starts_on - timedelta(days=14),
            )
        )
    budget_loads_post_due(on=today, budgets=budgets)

    # Cards: Sam and a few others on Stripe Issuing; everyone else on a council scheme.
    sam = personas.get("sam")
    stripe_budgets = [b for b in budgets if b.budget_holder == sam]
    others = [b for b in budgets if b.budget_holder != sam]
    stripe_budgets += ctx.rng.sample(others[2:], min(STRIPE_HOLDERS, max(0, len(others) - 2)))
    stripe_ids = {b.pk for b in stripe_budgets}
    cards = []
    for number, budget in enumerate(budgets):
        if budget.pk in stripe_ids:
            cards.append(
                Card(
                    budget=budget,
                    scheme=CardScheme.STRIPE,
                    reference=f"ic_demo{number:06d}",
                    stripe_cardholder_id=f"ich_demo{number:06d}",
                    last4=f"{4000 + number % 6000:04d}"[-4:],
                )
            )
        else:
            scheme = STATEMENT_SCHEMES[number % len(STATEMENT_SCHEMES)]
            cards.append(
                Card(
                    budget=budget,
                    scheme=scheme,
                    reference=f"{scheme.upper()}-{number:06d}",
                    last4=f"{number % 10000:04d}",
                )
            )
    Card.objects.bulk_create(cards)

    merchants = _directory_merchants() or []
    surplus_budget = next(
        (b for b in others if b.budget_holder != personas.get("kamala") and b.pk not in stripe_ids),
        None,
    )
    _statement_spending(ctx, cards, merchants, surplus_budget)
    _stripe_spending(ctx, [c for c in cards if c.scheme == CardScheme.STRIPE], merchants, sam)

    ctx.made["personal_budgets"] = budgets
    ctx.made["cards"] = cards
    ctx.made["surplus_budget"] = surplus_budget


def _statement_spending(ctx, cards, merchants, surplus_budget) -> None:
    """12 months of statement lines per scheme, imported through the real import."""
    today = ctx.today
    rows: dict[str, list[dict]] = defaultdict(list)
    pool = merchants + HIGH_STREET
    for card in cards:
        if card.scheme == CardScheme.STRIPE:
            continue
        budget = card.budget
        weekly = budget.weekly_funding_pence
        # Most people spend nearly all of it; the surplus case stops 10 weeks ago.
        share = 1.0 if budget == surplus_budget else ctx.rng.uniform(0.86, 0.99)
        favourites = ctx.rng.sample(pool, min(4, len(pool)))
        stop = today - timedelta(weeks=10) if budget == surplus_budget else today
        day = budget.starts_on + timedelta(days=ctx.rng.randint(0, 5))
        while day < stop:
            week_spend = int(weekly * share)
            payments = ctx.rng.randint(1, 3)
            for _ in range(payments):
                merchant = (
                    ctx.rng.choice(favourites) if ctx.rng.random() < 0.8 else ctx.rng.choice(pool)
                )
                pence = max(100, week_spend // payments + ctx.rng.randint(-500, 500))
                rows[card.scheme].append(
                    _row(
                        card,
                        day + timedelta(days=ctx.rng.randint(0, 6)),
                        merchant,
                        pence,
                        len(rows[card.scheme]),
                    )
                )
            day += timedelta(days=7)
        if ctx.rng.random() < 0.3 and favourites:
            rows[card.scheme].append(
                _row(card, today - timedelta(days=20), favourites[0], -1500, len(rows[card.scheme]))
            )
    for scheme, scheme_rows in rows.items():
        scheme_rows = [row for row in scheme_rows if row["date"] <= today]
        statement_import(
            text=_csv(scheme, scheme_rows), scheme_name=scheme, filename=f"demo-{scheme}.csv"
        )


def _row(card, day, merchant, pence, number) -> dict:
    return {
        "reference": f"{card.scheme[:2].upper()}{number:08d}",
        "card": card.reference,
        "date": day,
        "merchant": merchant.name,
        "postcode": merchant.postcode,
        "mcc": merchant.mcc,
        "pence": pence,
    }


def _money(pence: int) -> str:
    return f"{abs(pence) // 100}.{abs(pence) % 100:02d}"


def _csv(scheme: str, rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if scheme == CardScheme.ALLPAY:
        writer.writerow(
            [
                "Transaction Reference",
                "Card Number",
                "Transaction Date",
                "Merchant",
                "Merchant Postcode",
                "MCC",
                "Debit",
                "Credit",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r["reference"],
                    r["card"],
                    f"{r['date']:%d/%m/%Y}",
                    r["merchant"],
                    r["postcode"],
                    r["mcc"],
                    _money(r["pence"]) if r["pence"] > 0 else "",
                    _money(r["pence"]) if r["pence"] < 0 else "",
                ]
            )
    elif scheme == CardScheme.PFS:
        writer.writerow(
            [
                "Trans ID",
                "Card ID",
                "Date",
                "Description",
                "Merchant Post Code",
                "MCC Code",
                "Amount",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r["reference"],
                    r["card"],
                    f"{r['date']:%d/%m/%Y} 10:30",
                    r["merchant"],
                    r["postcode"],
                    r["mcc"],
                    ("-" if r["pence"] > 0 else "") + _money(r["pence"]),
                ]
            )
    elif scheme == CardScheme.EML:
        writer.writerow(
            [
                "TransactionId",
                "AccountNumber",
                "TransactionDate",
                "MerchantName",
                "MerchantPostcode",
                "MerchantCategoryCode",
                "BillingAmount",
                "DebitCredit",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r["reference"],
                    r["card"],
                    f"{r['date']:%Y-%m-%d}T10:30:00",
                    r["merchant"],
                    r["postcode"],
                    r["mcc"],
                    _money(r["pence"]),
                    "D" if r["pence"] > 0 else "C",
                ]
            )
    else:
        writer.writerow(
            [
                "transaction_id",
                "card_reference",
                "date",
                "merchant_name",
                "merchant_postcode",
                "mcc",
                "amount",
            ]
        )
        for r in rows:
            writer.writerow(
                [
                    r["reference"],
                    r["card"],
                    r["date"].isoformat(),
                    r["merchant"],
                    r["postcode"],
                    r["mcc"],
                    ("-" if r["pence"] < 0 else "") + _money(r["pence"]),
                ]
            )
    return buffer.getvalue()


def _stripe_spending(ctx, cards, merchants, sam) -> None:
    """Card payments, refunds and blocked-shop attempts, signed and posted to the real webhook view."""
    from .webhooks import stripe_webhook

    secret = settings.STRIPE_WEBHOOK_SECRET or DEMO_WEBHOOK_SECRET
    factory = RequestFactory()

    def send(body: bytes, signature: str) -> tuple[int, dict]:
        request = factory.post(
            "/webhooks/stripe/",
            data=body,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=signature,
        )
        response = stripe_webhook(request)
        import json

        return response.status_code, json.loads(response.content or b"{}")

    signer = Signer(secret, send)
    everyday = list(merchants[:20]) + EVERYDAY_MERCHANTS
    with override_settings(STRIPE_WEBHOOK_SECRET=secret):
        for card in cards:
            budget = card.budget
            months = 12 if card.budget.budget_holder == sam else 2
            weekly = budget.weekly_funding_pence
            for week in range(months * 52 // 12, 0, -1):
                moment = timezone.make_aware(
                    datetime.combine(ctx.today - timedelta(weeks=week), time(11))
                )
                merchant = ctx.rng.choice(everyday)
                pence = max(300, int(weekly * ctx.rng.uniform(0.7, 0.95)))
                play_payment(
                    signer,
                    card_id=card.reference,
                    cardholder_id=card.stripe_cardholder_id,
                    amount_pence=pence,
                    merchant=merchant,
                    created=int(moment.timestamp()),
                    refund_pence=pence // 4 if ctx.rng.random() < 0.05 else 0,
                )
                if ctx.rng.random() < (0.08 if months == 12 else 0.1):
                    play_payment(
                        signer,
                        card_id=card.reference,
                        cardholder_id=card.stripe_cardholder_id,
                        amount_pence=ctx.rng.choice([1000, 2000, 2500]),
                        merchant=ctx.rng.choice(BLOCKED_MERCHANTS),
                        created=int(moment.timestamp()) + 3600,
                    )
    _date_decisions_from_events()


def _date_decisions_from_events() -> None:
    """Demo only: the replayed decisions happened today, but belong to the dates of their events."""
    created = {}
    for payload in StripeEvent.objects.filter(type="issuing_authorization.request").values_list(
        "payload", flat=True
    ):
        created[payload["data"]["object"]["id"]] = payload["created"]
    updates = []
    for authorization in Authorization.objects.filter(stripe_authorization_id__in=list(created)):
        authorization.decided_at = datetime.fromtimestamp(
            created[authorization.stripe_authorization_id], tz=timezone.get_current_timezone()
        )
        updates.append(authorization)
    Authorization.objects.bulk_update(updates, ["decided_at"], batch_size=500)
