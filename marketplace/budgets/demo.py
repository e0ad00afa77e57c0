"""Demo budgets: a budget and support plan for every demo budget holder, 12 months of
loads and card spending through the real services, Stripe card events through the
real webhook, some blocked-shop declines, and one budget with about 10 weeks unspent.
"""

import csv
import io
import json
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
from .models import (
    Authorization,
    BudgetLoad,
    Card,
    CardScheme,
    CardStatus,
    Deployment,
    LoadSchedule,
    PersonalBudget,
    StripeEvent,
    SupportPlan,
)
from .services import budget_loads_post_due, budgets_accounts, statement_import

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
SAVERS = 4  # budgets besides the surplus case that build up more than 8 weeks unspent
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
    sam, kamala = personas.get("sam"), personas.get("kamala")
    specs = []
    for holder in holders:
        low, high = ANNUAL_POUNDS[CareGroup(holder.care_group)]
        is_sam, is_kamala = holder == sam, holder == kamala
        cash_allowed = ctx.rng.random() < 0.2 and not is_sam
        specs.append(
            {
                "budget_holder": holder,
                "annual_amount_pence": (
                    18_200 if is_sam else 14_300 if is_kamala else ctx.rng.randint(low, high)
                )
                * 100,
                "load_schedule": LoadSchedule.WEEKLY
                if ctx.rng.random() < 0.25
                else LoadSchedule.FOUR_WEEKLY,
                "deployment": (
                    Deployment.MIXED
                    if is_kamala or ctx.rng.random() < 0.15
                    else Deployment.DIRECT_PAYMENT
                ),
                "cash_allowed": cash_allowed,
                "approval_required_above_pence": 50_000
                if is_kamala
                else (100_000 if ctx.rng.random() < 0.3 else None),
            }
        )
    budgets = _budgets_create(specs, starts_on=starts_on, ends_on=ends_on)
    budget_loads_post_due(on=today, budgets=budgets)

    # Cards: Sam and a few others on Stripe Issuing; everyone else on a council scheme.
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
        if budget.pk not in stripe_ids or budget.budget_holder != sam:
            # Stripe holders other than Sam moved to Stripe two months ago from this card.
            scheme = STATEMENT_SCHEMES[number % len(STATEMENT_SCHEMES)]
            cards.append(
                Card(
                    budget=budget,
                    scheme=scheme,
                    reference=f"{scheme.upper()}-{number:06d}",
                    last4=f"{number % 10000:04d}",
                    status=CardStatus.CANCELED if budget.pk in stripe_ids else CardStatus.ACTIVE,
                )
            )
    Card.objects.bulk_create(cards)

    merchants = _directory_merchants() or []
    surplus_budget = next(
        (b for b in others if b.budget_holder != kamala and b.pk not in stripe_ids),
        None,
    )
    # Most people spend nearly all their money; a few (besides the surplus case) let more
    # than 8 weeks build up, so the monitoring queue has a handful of real surplus cases.
    plain = [b for b in others if b.pk not in stripe_ids and b != surplus_budget]
    savers = {b.pk for b in ctx.rng.sample(plain, min(SAVERS, len(plain)))}
    stripe_cards = [c for c in cards if c.scheme == CardScheme.STRIPE]
    stripe_plan = _stripe_plan(ctx, stripe_cards, merchants, sam)
    _statement_spending(ctx, cards, merchants, surplus_budget, savers, stripe_plan)
    _stripe_spending(ctx, stripe_plan)

    ctx.made["personal_budgets"] = budgets
    ctx.made["cards"] = cards
    ctx.made["surplus_budget"] = surplus_budget


def _budgets_create(specs: list[dict], *, starts_on, ends_on) -> list[PersonalBudget]:
    """What ``budget_create`` makes for each spec (budget, support plan, ledger accounts and
    load schedule), written with a few bulk inserts."""
    budgets = PersonalBudget.objects.bulk_create(
        [
            PersonalBudget(
                budget_holder=spec["budget_holder"],
                annual_amount_pence=spec["annual_amount_pence"],
                load_schedule=spec["load_schedule"],
                starts_on=starts_on,
                ends_on=ends_on,
                care_group=spec["budget_holder"].care_group,
                deployment=spec["deployment"],
            )
            for spec in specs
        ]
    )
    SupportPlan.objects.bulk_create(
        [
            SupportPlan(
                budget=budget,
                outcomes=list(OUTCOMES[CareGroup(budget.care_group)]),
                cash_allowed=spec["cash_allowed"],
                cash_limit_pence=10_000 if spec["cash_allowed"] else 0,
                approval_required_above_pence=spec["approval_required_above_pence"],
                agreed_on=starts_on - timedelta(days=14),
            )
            for budget, spec in zip(budgets, specs, strict=True)
        ]
    )
    budgets_accounts(budget_ids=[b.pk for b in budgets])
    BudgetLoad.objects.bulk_create(
        [
            BudgetLoad(budget=budget, due_on=day, amount_pence=pence)
            for budget in budgets
            for day, pence in budget.load_plan()
        ],
        batch_size=2000,
    )
    return budgets


def _paid_in(budget, today) -> int:
    return sum(pence for day, pence in budget.load_plan() if day <= today)


def _weekly_spend(ctx, total: int, weeks: int) -> list[int]:
    """``total`` pence spread over ``weeks`` weeks, a little uneven."""
    if weeks <= 0 or total <= 0:
        return [0] * max(weeks, 0)
    shares = [ctx.rng.uniform(0.8, 1.2) for _ in range(weeks)]
    scale = total / sum(shares)
    return [int(share * scale) for share in shares]


def _statement_spending(ctx, cards, merchants, surplus_budget, savers, stripe_plan) -> None:
    """12 months of statement lines per scheme, imported through the real import (one file
    per scheme)."""
    today = ctx.today
    rows: dict[str, list[dict]] = defaultdict(list)
    pool = merchants + HIGH_STREET
    for card in cards:
        if card.scheme == CardScheme.STRIPE:
            continue
        budget = card.budget
        weekly = budget.weekly_funding_pence
        # Left unspent today, in weeks of funding: most people 1 to 6, a few savers 8.5 to
        # 12; the surplus case spends everything until 10 weeks ago.
        if budget == surplus_budget:
            left_weeks = None
        elif budget.pk in savers:
            left_weeks = ctx.rng.uniform(8.5, 12)
        else:
            left_weeks = ctx.rng.uniform(1, 6)
        favourites = ctx.rng.sample(pool, min(4, len(pool)))
        first = budget.starts_on + timedelta(days=ctx.rng.randint(0, 5))
        if budget == surplus_budget:
            stop = today - timedelta(weeks=10)
            spend_total = _paid_in(budget, today) - weekly * 10
        else:
            # A Stripe holder's old card stops when their Stripe card starts.
            stripe = stripe_plan.get(budget.pk)
            stop = stripe["starts"] if stripe else today
            spend_total = (
                _paid_in(budget, today)
                - int(weekly * left_weeks)
                - (stripe["total"] if stripe else 0)
            )
        weeks = max(0, ((stop - first).days + 6) // 7)
        for week, week_spend in enumerate(_weekly_spend(ctx, spend_total, weeks)):
            day = first + timedelta(weeks=week)
            payments = ctx.rng.randint(1, 3)
            spent = 0
            for payment in range(payments):
                merchant = (
                    ctx.rng.choice(favourites) if ctx.rng.random() < 0.8 else ctx.rng.choice(pool)
                )
                pence = (
                    week_spend - spent
                    if payment == payments - 1
                    else week_spend // payments + ctx.rng.randint(-500, 500)
                )
                if pence < 100:
                    continue
                spent += pence
                when = min(day + timedelta(days=ctx.rng.randint(0, 6)), stop - timedelta(days=1))
                rows[card.scheme].append(_row(card, when, merchant, pence, len(rows[card.scheme])))
        if ctx.rng.random() < 0.3 and favourites and budget != surplus_budget:
            rows[card.scheme].append(
                _row(card, stop - timedelta(days=20), favourites[0], -1500, len(rows[card.scheme]))
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


def _stripe_plan(ctx, cards, merchants, sam) -> dict[int, dict]:
    """The Stripe card payments to play, by budget id: Sam's card for 12 months, the others
    for the last 2 months (they used a council card before)."""
    everyday = list(merchants[:20]) + EVERYDAY_MERCHANTS
    plan = {}
    for card in cards:
        budget = card.budget
        months = 12 if budget.budget_holder == sam else 2
        weekly = budget.weekly_funding_pence
        payments = []
        for week in range(months * 52 // 12, 0, -1):
            moment = timezone.make_aware(
                datetime.combine(ctx.today - timedelta(weeks=week), time(11))
            )
            pence = max(300, int(weekly * ctx.rng.uniform(0.93, 1.0)))
            payments.append(
                {
                    "card": card,
                    "pence": pence,
                    "merchant": ctx.rng.choice(everyday),
                    "created": int(moment.timestamp()),
                    "refund": pence // 4 if ctx.rng.random() < 0.05 else 0,
                    "blocked": ctx.rng.random() < (0.08 if months == 12 else 0.1),
                    "blocked_pence": ctx.rng.choice([1000, 2000, 2500]),
                    "blocked_merchant": ctx.rng.choice(BLOCKED_MERCHANTS),
                }
            )
        plan[budget.pk] = {
            "payments": payments,
            "starts": ctx.today - timedelta(weeks=months * 52 // 12),
            "total": sum(p["pence"] - p["refund"] for p in payments),
        }
    return plan


def _stripe_spending(ctx, plan) -> None:
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
        return response.status_code, json.loads(response.content or b"{}")

    signer = Signer(secret, send)
    with override_settings(STRIPE_WEBHOOK_SECRET=secret):
        for budget_plan in plan.values():
            for payment in budget_plan["payments"]:
                card = payment["card"]
                play_payment(
                    signer,
                    card_id=card.reference,
                    cardholder_id=card.stripe_cardholder_id,
                    amount_pence=payment["pence"],
                    merchant=payment["merchant"],
                    created=payment["created"],
                    refund_pence=payment["refund"],
                )
                if payment["blocked"]:
                    play_payment(
                        signer,
                        card_id=card.reference,
                        cardholder_id=card.stripe_cardholder_id,
                        amount_pence=payment["blocked_pence"],
                        merchant=payment["blocked_merchant"],
                        created=payment["created"] + 3600,
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
