"""Demo marketplace payments: providers' Stripe accounts, invoices paid and unpaid, remittances.

Never calls Stripe: the connected account and transfer ids are made-up
``acct_demo...`` and ``tr_demo...`` ids, shown as they would be.
"""

from datetime import timedelta

from django.utils import timezone

from cms.demo import DemoContext
from marketplace.budgets.models import AccountKind, BudgetStatus, PersonalBudget
from marketplace.budgets.services import budget_marketplace_payment_post
from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

from .models import (
    Channel,
    ConnectedAccount,
    Invoice,
    InvoiceKind,
    InvoiceStatus,
    Payment,
    PaymentStatus,
)
from .services import purchase_record

DESCRIPTIONS = {
    ServiceCategory.HOME_CARE: "Morning and evening visits",
    ServiceCategory.PERSONAL_ASSISTANTS: "Personal assistant hours",
    ServiceCategory.DAY_OPPORTUNITIES: "Day centre sessions",
    ServiceCategory.SHORT_BREAKS: "Respite weekend",
    ServiceCategory.MEALS: "Lunch club meals",
    ServiceCategory.TRANSPORT: "Transport to the day centre",
    ServiceCategory.SOCIAL_LEISURE: "Art class, 4 sessions",
    ServiceCategory.BEFRIENDING: "Befriending visits",
}


def _primary_categories() -> dict[int, str]:
    from marketplace.providers.models import Service

    categories: dict[int, str] = {}
    for organisation_id, category in Service.objects.values_list(
        "organisation_id", "category"
    ).order_by("pk"):
        categories.setdefault(organisation_id, category)
    return categories


def seed(ctx: DemoContext) -> None:
    organisations = list(Organisation.objects.order_by("pk"))
    if not organisations:
        return
    # Two in three providers have finished Stripe onboarding; a few are part-way.
    accounts = []
    for organisation in organisations:
        roll = ctx.rng.random()
        if roll < 0.75:
            ready = roll < 0.65
            accounts.append(
                ConnectedAccount(
                    organisation=organisation,
                    stripe_account_id=f"acct_demo{organisation.pk:010d}",
                    details_submitted=ready,
                    charges_enabled=ready,
                    payouts_enabled=ready,
                    transfers_active=ready,
                    requirements_due=[] if ready else ["external_account", "tos_acceptance.date"],
                )
            )
    ConnectedAccount.objects.bulk_create(accounts)
    payable = [a.organisation for a in accounts if a.transfers_active]
    personas = ctx.made.get("personas", {})
    # The providers in the journeys are always ready to be paid.
    for user in ctx.made.get("provider_users", {}).values():
        for membership in user.provider_memberships.select_related("organisation"):
            organisation = membership.organisation
            ConnectedAccount.objects.update_or_create(
                organisation=organisation,
                defaults={
                    "stripe_account_id": f"acct_demo{organisation.pk:010d}",
                    "details_submitted": True,
                    "charges_enabled": True,
                    "payouts_enabled": True,
                    "transfers_active": True,
                    "requirements_due": [],
                },
            )
            if organisation not in payable:
                payable.append(organisation)
    if not payable:
        return
    categories = _primary_categories()
    today = ctx.today
    budgets = list(
        PersonalBudget.objects.filter(
            status=BudgetStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today
        )
        .select_related("budget_holder")
        .order_by("pk")
    )
    funds = dict(
        PersonalBudget.objects.filter(pk__in=[b.pk for b in budgets])
        .filter(accounts__kind=AccountKind.HOLDER_FUNDS)
        .values_list("pk", "accounts__balance_pence")
    )
    staff_by_org = {}
    for user in ctx.made.get("provider_users", {}).values():
        for membership in user.provider_memberships.all():
            staff_by_org[membership.organisation_id] = user

    kamala = personas.get("kamala")
    chosen = [b for b in budgets if ctx.rng.random() < 0.2 and b.budget_holder != kamala]
    number = 0
    for budget in chosen:
        organisation = ctx.rng.choice(payable)
        category = categories.get(organisation.pk, ServiceCategory.HOME_CARE)
        for _ in range(ctx.rng.randint(1, 3)):
            number += 1
            amount = ctx.rng.choice([2_400, 4_800, 7_500, 12_000, 18_000, 26_400])
            paid = funds.get(budget.pk, 0) >= amount and ctx.rng.random() < 0.75
            raised = today - timedelta(days=ctx.rng.randint(3, 150))
            invoice = Invoice.objects.create(
                organisation=organisation,
                budget_holder=budget.budget_holder,
                kind=InvoiceKind.INVOICE if ctx.rng.random() < 0.8 else InvoiceKind.BOOKING,
                provider_reference=f"INV-{organisation.pk:03d}-{number:05d}",
                description=DESCRIPTIONS.get(category, "Support as agreed"),
                category=category,
                amount_pence=amount,
                due_on=raised + timedelta(days=14),
                status=InvoiceStatus.PAID if paid else InvoiceStatus.UNPAID,
                created_by=staff_by_org.get(organisation.pk),
            )
            if not paid:
                continue
            payment = Payment.objects.create(
                invoice=invoice,
                idempotency_key=f"demo-{invoice.pk}",
                budget_holder=budget.budget_holder,
                organisation=organisation,
                amount_pence=amount,
                status=PaymentStatus.PAID,
                stripe_transfer_id=f"tr_demo{invoice.pk:012d}",
                paid_at=timezone.now() - (today - raised),
            )
            budget_marketplace_payment_post(
                budget=budget,
                amount_pence=amount,
                source_id=str(payment.pk),
                occurred_on=raised,
                memo=f"{organisation.name}: invoice {invoice.provider_reference}",
            )
            purchase, _ = purchase_record(
                budget_holder=budget.budget_holder,
                amount_pence=amount,
                occurred_on=raised,
                channel=Channel.MARKETPLACE,
                source_reference=f"payment-{payment.pk}",
                organisation=organisation,
                category=category,
                merchant_name=organisation.name,
                match_confidence=100,
            )
            payment.purchase = purchase
            payment.save(update_fields=["purchase"])
            funds[budget.pk] = funds.get(budget.pk, 0) - amount

    # Journey 2: Kamala's first invoice from her home care agency, waiting for Priya to pay it.
    homecare_user = ctx.made.get("provider_users", {}).get("homecare")
    membership = (
        homecare_user.provider_memberships.select_related("organisation").first()
        if homecare_user
        else None
    )
    agency = membership.organisation if membership is not None else None
    if agency is None:
        agency = next(
            (o for o in payable if categories.get(o.pk) == ServiceCategory.HOME_CARE), None
        )
    if kamala is not None and agency is not None:
        Invoice.objects.create(
            organisation=agency,
            budget_holder=kamala,
            provider_reference="HC-0001",
            description="Help getting up in the morning: 5 visits",
            category=ServiceCategory.HOME_CARE,
            amount_pence=11_000,
            due_on=today + timedelta(days=14),
            created_by=homecare_user if membership is not None else None,
        )
    ctx.made["marketplace_payments"] = number
