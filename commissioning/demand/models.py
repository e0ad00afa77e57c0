"""Demand figures kept current as purchases arrive, and the council's reference data beside them.

Why two tables for the rollup: spend and purchase counts add up across cells,
but "distinct budget holders" does not (one person buying home care and
transport is one person, not two). ``DemandRollup`` holds one row per fine
cell with its sums; ``DemandRollupMember`` holds who is in each cell and how
many of the cell's purchases are theirs. Distinct people for any combination
of cells is then an exact ``COUNT(DISTINCT budget_holder_id)`` over the
members of the chosen cells, and both tables change by one row per purchase,
so the figures stay incremental and exact (no HyperLogLog estimate).
"""

from django.db import models
from django.db.models import Q

from wagtail.fields import RichTextField

from marketplace.accounts.models import CareGroup
from marketplace.payments.models import Channel
from marketplace.providers.models import Organisation, Sector
from marketplace.providers.taxonomy import ServiceCategory


class DemandRollup(models.Model):
    """Spend, purchases and people for one month in one fine cell of the market.

    ``cell_key`` spells out every dimension (with an empty provider as ``-``),
    so one unique constraint works on every database even though the provider
    can be empty (NULLs never collide in a unique index).
    """

    cell_key = models.CharField(max_length=200, unique=True)
    month = models.DateField(help_text="First day of the month.")
    category = models.CharField(max_length=32, choices=ServiceCategory.choices)
    postcode_district = models.CharField(max_length=5)
    care_group = models.CharField(max_length=32, choices=CareGroup.choices)
    organisation = models.ForeignKey(
        Organisation,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="demand_rollups",
    )
    sector = models.CharField(max_length=20, choices=Sector.choices, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    spend_pence = models.BigIntegerField(default=0)
    purchase_count = models.IntegerField(default=0)
    holder_count = models.IntegerField(default=0, help_text="Distinct budget holders in this cell.")

    class Meta:
        ordering = ["month", "category", "postcode_district"]
        indexes = [
            models.Index(fields=["month", "category"]),
            models.Index(fields=["month", "postcode_district"]),
            models.Index(fields=["month", "organisation"]),
        ]
        permissions = [
            (
                "view_unrounded_figures",
                "Can see demand figures before small-number suppression (council analysts)",
            )
        ]

    def __str__(self) -> str:
        return self.cell_key


class DemandRollupMember(models.Model):
    """That a budget holder bought in a rollup cell, and how many times."""

    rollup = models.ForeignKey(DemandRollup, on_delete=models.CASCADE, related_name="members")
    budget_holder_id = models.BigIntegerField(db_index=True)
    purchase_count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rollup", "budget_holder_id"], name="demand_member_once_per_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.rollup_id}:{self.budget_holder_id}"


class Unit(models.TextChoices):
    HOUR = "hour", "per hour"
    SESSION = "session", "per session"
    DAY = "day", "per day"
    NIGHT = "night", "per night"
    WEEK = "week", "per week"
    MEAL = "meal", "per meal"
    TRIP = "trip", "per trip"
    ITEM = "item", "per item"


class FairCostRate(models.Model):
    """The council's reference ("fair cost of care") rate for a category and unit."""

    category = models.CharField(max_length=32, choices=ServiceCategory.choices)
    unit = models.CharField(max_length=10, choices=Unit.choices)
    rate_pence = models.PositiveIntegerField(help_text="In pence, for example 2350 for £23.50.")
    valid_from = models.DateField()
    source = models.CharField(
        max_length=200,
        blank=True,
        help_text="Where the rate comes from, e.g. Fair Cost of Care 2025.",
    )

    class Meta:
        ordering = ["category", "unit", "-valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["category", "unit", "valid_from"], name="one_fair_cost_rate_per_start"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {self.get_unit_display()}: {self.rate_pence}p"


class BlockContract(models.Model):
    """A contract the council buys in bulk from a provider, at risk when people choose otherwise."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="block_contracts"
    )
    category = models.CharField(max_length=32, choices=ServiceCategory.choices)
    annual_value_pence = models.BigIntegerField()
    starts_on = models.DateField()
    ends_on = models.DateField()
    reference = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["organisation__name", "category"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=models.F("starts_on")),
                name="block_contract_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.get_category_display()}"


class MarketPositionSection(models.TextChoices):
    INTRODUCTION = "introduction", "Introduction"
    DEMAND = "demand", "What people are buying"
    PRICES = "prices", "Prices and fair cost"
    MARKET = "market", "The shape of the market"
    GAPS = "gaps", "Gaps and opportunities"
    INTENTIONS = "intentions", "Our commissioning intentions"


class MarketPositionCommentary(models.Model):
    """The council's words for one section of the Market Position Statement (edited in Wagtail)."""

    section = models.CharField(max_length=20, choices=MarketPositionSection.choices, unique=True)
    body = RichTextField(features=["bold", "italic", "link", "ol", "ul", "h3"])
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "Market Position Statement commentary"
        verbose_name_plural = "Market Position Statement commentary"

    def __str__(self) -> str:
        return self.get_section_display()
