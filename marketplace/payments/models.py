from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.accounts.models import BudgetHolder, CareGroup
from marketplace.providers.models import Organisation, Sector
from marketplace.providers.taxonomy import ServiceCategory


class Channel(models.TextChoices):
    CARD = "card", "Prepayment card (Stripe Issuing)"
    CARD_STATEMENT = "card_statement", "Prepayment card (imported statement)"
    MARKETPLACE = "marketplace", "Marketplace payment"


class MatchStatus(models.TextChoices):
    MATCHED = "matched", "Matched automatically"
    CONFIRMED = "confirmed", "Confirmed by an officer"
    CATEGORY_ONLY = "category_only", "Category from merchant code only"
    UNMATCHED = "unmatched", "Not matched"


class Purchase(models.Model):
    """One thing a budget holder bought, from whichever channel it came.

    This is the single record of spend that reviews check ("verified
    purchase") and commissioning figures sum. Refunds are negative amounts.
    ``(channel, source_reference)`` is unique, so a re-delivered event or a
    re-imported statement line can never count twice.

    ``budget_holder`` and ``organisation`` are checked references: no per-row foreign-key
    constraint (statement imports write purchases by the thousand), but the database proves
    them once per statement and refuses to delete a parent still referenced
    (marketplace/budgets/checked_references.py).
    """

    # Served by the (budget_holder, organisation, occurred_on) index: no index of its own.
    budget_holder = models.ForeignKey(
        BudgetHolder,
        on_delete=models.PROTECT,
        related_name="purchases",
        db_constraint=False,
        db_index=False,
    )
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="purchases",
        db_constraint=False,
    )
    category = models.CharField(max_length=32, choices=ServiceCategory.choices)
    amount_pence = models.BigIntegerField()
    occurred_on = models.DateField()  # indexed first in (occurred_on, category)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source_reference = models.CharField(max_length=120)
    merchant_name = models.CharField(max_length=200, blank=True)
    merchant_category_code = models.CharField(max_length=4, blank=True)
    # What card data says about the merchant, kept so matching can be redone
    # and an officer's correction applied to every purchase from that merchant.
    merchant_key = models.CharField(max_length=200, blank=True)  # indexed below, for equality
    merchant_postcode = models.CharField(max_length=10, blank=True)
    stripe_merchant_id = models.CharField(max_length=64, blank=True)
    match_status = models.CharField(max_length=20, choices=MatchStatus.choices)
    match_confidence = models.PositiveSmallIntegerField(default=0, help_text="0 to 100")
    # Copied from the budget holder and provider when recorded, so figures keep
    # the care group, place and sector as they were at the time of purchase.
    care_group = models.CharField(max_length=32, choices=CareGroup.choices)
    postcode_district = models.CharField(max_length=5)
    sector = models.CharField(max_length=20, choices=Sector.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source_reference"], name="purchase_recorded_once_per_source"
            ),
            models.CheckConstraint(condition=~Q(amount_pence=0), name="purchase_amount_not_zero"),
        ]
        indexes = [
            models.Index(fields=["budget_holder", "organisation", "occurred_on"]),
            models.Index(fields=["occurred_on", "category"]),
            # Looked up by equality only: no LIKE (pattern_ops) index beside it.
            models.Index(fields=["merchant_key"], name="purchase_merchant_key"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_category_display()} {self.amount_pence}p"


class ConnectedAccount(models.Model):
    """A provider's Stripe Connect account: where marketplace payments are sent.

    Status mirrors Stripe's ``account.updated`` events; a provider can be paid
    once Stripe says transfers are enabled.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, related_name="connected_account"
    )
    stripe_account_id = models.CharField(max_length=64, unique=True)
    details_submitted = models.BooleanField(default=False)
    charges_enabled = models.BooleanField(default=False)
    payouts_enabled = models.BooleanField(default=False)
    transfers_active = models.BooleanField(
        default=False, help_text="Stripe accepts transfers to this account."
    )
    requirements_due = models.JSONField(default=list, blank=True)
    last_payout_status = models.CharField(
        max_length=10, blank=True, help_text="Stripe's last payout to the bank: paid or failed."
    )
    last_payout_failure = models.CharField(max_length=300, blank=True)
    last_payout_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return f"{self.organisation} ({self.stripe_account_id})"

    @property
    def ready(self) -> bool:
        return self.details_submitted and self.transfers_active

    @property
    def status_label(self) -> str:
        if self.ready:
            return "Ready to receive payments"
        if self.details_submitted:
            return "Stripe is checking your details"
        return "Set-up not finished"


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    BOOKING = "booking", "Booking"


class InvoiceStatus(models.TextChoices):
    UNPAID = "unpaid", "Waiting for payment"
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for council approval"
    PAYING = "paying", "Being paid"
    PAID = "paid", "Paid"
    DECLINED = "declined", "Not approved"
    REVERSED = "reversed", "Payment reversed"
    CANCELLED = "cancelled", "Cancelled by the provider"


class Invoice(models.Model):
    """An invoice or booking a provider raises to a budget holder, to be paid from the budget."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="invoices"
    )
    budget_holder = models.ForeignKey(
        BudgetHolder, on_delete=models.PROTECT, related_name="invoices"
    )
    kind = models.CharField(max_length=10, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    provider_reference = models.CharField(
        "your reference", max_length=60, help_text="The number on your own invoice or booking."
    )
    description = models.CharField(max_length=300)
    category = models.CharField(max_length=32, choices=ServiceCategory.choices)
    amount_pence = models.BigIntegerField()
    service_from = models.DateField(null=True, blank=True)
    service_to = models.DateField(null=True, blank=True)
    due_on = models.DateField()
    status = models.CharField(
        max_length=20, choices=InvoiceStatus.choices, default=InvoiceStatus.UNPAID, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "provider_reference"],
                name="invoice_reference_unique_per_provider",
            ),
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="invoice_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.provider_reference} from {self.organisation}"

    @property
    def payable(self) -> bool:
        return self.status == InvoiceStatus.UNPAID


class PaymentStatus(models.TextChoices):
    AWAITING_APPROVAL = "awaiting_approval", "Waiting for council approval"
    DECLINED = "declined", "Not approved"
    SENDING = "sending", "Sending to the provider"
    PAID = "paid", "Paid"
    FAILED = "failed", "Failed, money returned to the budget"
    REVERSED = "reversed", "Reversed, money returned to the budget"


class Payment(models.Model):
    """One payment of one invoice from a personal budget to a provider.

    One per idempotency key, and at most one live payment per invoice (both
    unique constraints), so a double-pressed button or a retried request can
    never pay twice. The same key goes to Stripe as the transfer's
    Idempotency-Key. A failed or declined payment leaves the invoice payable.
    """

    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    idempotency_key = models.CharField(max_length=64, unique=True)
    budget_holder = models.ForeignKey(
        BudgetHolder, on_delete=models.PROTECT, related_name="marketplace_payments"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="marketplace_payments"
    )
    amount_pence = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=PaymentStatus.choices, db_index=True)
    approval_reason = models.CharField(max_length=300, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)
    stripe_transfer_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    failure_reason = models.CharField(max_length=300, blank=True)
    purchase = models.OneToOneField(
        Purchase, null=True, blank=True, on_delete=models.SET_NULL, related_name="payment"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["invoice"],
                condition=Q(status__in=["awaiting_approval", "sending", "paid"]),
                name="one_live_payment_per_invoice",
            ),
        ]

    def __str__(self) -> str:
        return f"Payment {self.pk} of {self.amount_pence}p to {self.organisation}"

    @property
    def remittance_reference(self) -> str:
        return f"SCC-{self.pk:06d}"


class MerchantAlias(models.Model):
    """What we have learned about a card merchant: which directory provider it is.

    Learned when a monitoring officer confirms or corrects a match. A Stripe
    merchant id is the strongest key; a normalised name (optionally with a
    postcode) the next.
    """

    merchant_key = models.CharField(
        max_length=200, db_index=True, help_text="Normalised merchant name"
    )
    postcode = models.CharField(max_length=10, blank=True)
    stripe_merchant_id = models.CharField(max_length=64, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="merchant_aliases"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["merchant_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["stripe_merchant_id"],
                condition=~Q(stripe_merchant_id=""),
                name="merchant_alias_one_per_stripe_id",
            ),
            models.UniqueConstraint(
                fields=["merchant_key", "postcode"],
                condition=Q(stripe_merchant_id=""),
                name="merchant_alias_one_per_name_and_postcode",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merchant_key} -> {self.organisation}"
