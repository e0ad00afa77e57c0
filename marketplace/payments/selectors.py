"""Reads for invoices, payments, remittances and card-merchant matching."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from marketplace.accounts.models import BudgetHolder, User
from marketplace.budgets.models import (
    AccountKind,
    Authorization,
    AuthorizationStatus,
    BudgetStatus,
    PersonalBudget,
)
from marketplace.providers.models import Organisation

from .matching import REVIEW_BELOW, MerchantIndex, merchant_index
from .models import Channel, Invoice, InvoiceStatus, MatchStatus, Payment, PaymentStatus, Purchase


def organisations_for_provider_user(*, user: User) -> QuerySet[Organisation]:
    """The providers this person works for."""
    return Organisation.objects.filter(memberships__user=user).order_by("name").distinct()


def budget_current_for(
    *, budget_holder: BudgetHolder, on: date | None = None
) -> PersonalBudget | None:
    """The budget a payment made today comes out of: active and open on that day."""
    on = on or timezone.localdate()
    return (
        PersonalBudget.objects.filter(
            budget_holder=budget_holder,
            status=BudgetStatus.ACTIVE,
            starts_on__lte=on,
            ends_on__gte=on,
        )
        .select_related("support_plan")
        .order_by("-starts_on")
        .first()
    )


def budget_available_pence(*, budget: PersonalBudget) -> int:
    """Money the person can spend now: their funds less card authorisations still held."""
    funds = (
        budget.accounts.filter(kind=AccountKind.HOLDER_FUNDS)
        .values_list("balance_pence", flat=True)
        .first()
        or 0
    )
    held = (
        Authorization.objects.filter(
            budget=budget, approved=True, status=AuthorizationStatus.PENDING
        ).aggregate(total=Sum("amount_pence"))["total"]
        or 0
    )
    return funds - held


def payment_approval_reasons(*, invoice: Invoice, budget: PersonalBudget) -> list[str]:
    """Why the council must approve paying this invoice, in plain words; empty if it need not."""
    from cms.templatetags.govuk import pence

    plan = getattr(budget, "support_plan", None)
    if plan is None:
        return []
    reasons = []
    limit = plan.approval_required_above_pence
    if limit is not None and invoice.amount_pence > limit:
        reasons.append(
            f"{pence(invoice.amount_pence)} is more than the {pence(limit)} the support plan "
            "allows without the council's approval."
        )
    if not plan.allows_category(invoice.category):
        reasons.append(f"{invoice.get_category_display()} is not in the support plan.")
    return reasons


def invoices_for_organisations(*, organisations) -> QuerySet[Invoice]:
    return (
        Invoice.objects.filter(organisation__in=organisations)
        .select_related("organisation", "budget_holder")
        .order_by("-created_at", "-pk")
    )


def invoices_to_pay(*, budget_holder: BudgetHolder) -> QuerySet[Invoice]:
    return Invoice.objects.filter(budget_holder=budget_holder).select_related("organisation")


def remittances_for_organisations(*, organisations) -> QuerySet[Payment]:
    """Payments sent to these providers, newest first."""
    return (
        Payment.objects.filter(
            organisation__in=organisations,
            status__in=[PaymentStatus.PAID, PaymentStatus.SENDING, PaymentStatus.REVERSED],
        )
        .select_related("invoice", "budget_holder", "organisation")
        .order_by("-paid_at", "-created_at", "-pk")
    )


def payments_awaiting_approval() -> QuerySet[Payment]:
    return (
        Payment.objects.filter(status=PaymentStatus.AWAITING_APPROVAL)
        .select_related("invoice", "budget_holder", "organisation")
        .order_by("created_at", "pk")
    )


def holder_initials(budget_holder: BudgetHolder) -> str:
    """What a provider sees of the person: initials only (their council reference is beside it)."""
    return "".join(part[0].upper() + "." for part in budget_holder.full_name.split() if part)


@dataclass
class MerchantGroup:
    merchant_key: str
    example_name: str
    purchases: int
    total_pence: int
    people: int
    first_on: date
    last_on: date
    matched_organisation_id: int | None
    confidence: int
    postcodes: list[str]
    suggestion: Organisation | None = None
    matched_organisation: Organisation | None = None


def _review_filter() -> Q:
    return Q(channel__in=[Channel.CARD, Channel.CARD_STATEMENT]) & (
        Q(match_status__in=[MatchStatus.UNMATCHED])
        | Q(match_status=MatchStatus.CATEGORY_ONLY, match_confidence__lt=100)
        | Q(match_status=MatchStatus.MATCHED, match_confidence__lt=REVIEW_BELOW)
    )


def merchants_to_review(
    *, limit: int = 40, index: MerchantIndex | None = None
) -> list[MerchantGroup]:
    """Card merchants an officer should check: unmatched, category only, or matched with low confidence.

    Grouped by normalised merchant name, biggest spend first, each with the
    most likely provider as a suggestion.
    """
    rows = (
        Purchase.objects.filter(_review_filter())
        .exclude(merchant_key="")
        .values("merchant_key")
        .annotate(
            purchases=Count("pk"),
            total_pence=Sum("amount_pence"),
            people=Count("budget_holder", distinct=True),
            first_on=Min("occurred_on"),
            last_on=Max("occurred_on"),
            example_name=Max("merchant_name"),
            matched_organisation_id=Max("organisation_id"),
            confidence=Max("match_confidence"),
        )
        .order_by("-total_pence", "merchant_key")[:limit]
    )
    groups = [MerchantGroup(postcodes=[], **row) for row in rows]
    if not groups:
        return groups
    postcodes: dict[str, set] = {}
    for key, postcode in (
        Purchase.objects.filter(_review_filter(), merchant_key__in=[g.merchant_key for g in groups])
        .exclude(merchant_postcode="")
        .values_list("merchant_key", "merchant_postcode")
        .distinct()
    ):
        postcodes.setdefault(key, set()).add(postcode)
    index = index or merchant_index()
    wanted: set[int] = set()
    suggestion_ids = {}
    for group in groups:
        group.postcodes = sorted(postcodes.get(group.merchant_key, ()))
        best_id, _ = index.best(group.merchant_key, group.postcodes[0] if group.postcodes else "")
        suggestion_ids[group.merchant_key] = best_id
        wanted.update(pk for pk in (best_id, group.matched_organisation_id) if pk)
    organisations = Organisation.objects.in_bulk(wanted)
    for group in groups:
        group.suggestion = organisations.get(suggestion_ids[group.merchant_key])
        group.matched_organisation = organisations.get(group.matched_organisation_id)
    return groups


def merchant_purchases(*, merchant_key: str) -> QuerySet[Purchase]:
    return Purchase.objects.filter(
        merchant_key=merchant_key, channel__in=[Channel.CARD, Channel.CARD_STATEMENT]
    ).select_related("organisation")


def invoice_open_count(*, organisations) -> int:
    return Invoice.objects.filter(
        organisation__in=organisations,
        status__in=[InvoiceStatus.UNPAID, InvoiceStatus.AWAITING_APPROVAL],
    ).count()
