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
    """

    budget_holder = models.ForeignKey(BudgetHolder, on_delete=models.PROTECT, related_name="purchases")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    category = models.CharField(max_length=32, choices=ServiceCategory.choices)
    amount_pence = models.BigIntegerField()
    occurred_on = models.DateField(db_index=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    source_reference = models.CharField(max_length=120)
    merchant_name = models.CharField(max_length=200, blank=True)
    merchant_category_code = models.CharField(max_length=4, blank=True)
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
            models.CheckConstraint(
                condition=~Q(amount_pence=0), name="purchase_amount_not_zero"
            ),
        ]
        indexes = [
            models.Index(fields=["budget_holder", "organisation", "occurred_on"]),
            models.Index(fields=["occurred_on", "category"]),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.get_category_display()} {self.amount_pence}p"
