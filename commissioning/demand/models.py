"""Demand figures kept current as purchases arrive, and the council's reference data beside them.

The rollups are summary tables at exactly the groupings the dashboard and
disclosure control read (see ``GROUPINGS``): month totals, month x category,
month x category x one more dimension (the disclosure grids), and month x
category x locality x provider (market concentration per local market).

``DemandRollup`` holds one row per grouping cell with its spend, purchases
and distinct budget holders. Spend and purchases add up across cells, but
"distinct budget holders" does not (one person buying in March and April is
one person), so ``DemandRollupMember`` holds who is in each cell and how many
of the cell's purchases are theirs. Distinct people over several cells is an
exact ``COUNT(DISTINCT budget_holder_id)`` over the members of those cells;
both tables change by a few rows per purchase, so the figures stay
incremental and exact (no HyperLogLog estimate).

Over a long period the member rows of the same person repeat month after
month, so ``DemandRollupReach`` folds them per calendar year: one row per
cell and person with a bitmask of the months they bought in. "Distinct
people in months m1..m2" is then one pass over far fewer rows, testing bits
(see ``selectors.rollup_figures``); still exact.
"""

from django.db import models
from django.db.models import Q

from wagtail.fields import RichTextField

from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

# Grouping name -> the dimensions (besides month) its cells are keyed by, smallest first.
# ``category`` is stored in its own column, the others in ``value`` and ``value2`` in order.
GROUPINGS: dict[str, tuple[str, ...]] = {
    "total": (),
    "category": ("category",),
    "category_locality": ("category", "locality"),
    "category_care_group": ("category", "care_group"),
    "category_sector": ("category", "sector"),
    "category_channel": ("category", "channel"),
    "category_provider": ("category", "provider"),
    "category_locality_provider": ("category", "locality", "provider"),
}
GROUPING_CHOICES = [(name, name.replace("_", " ")) for name in GROUPINGS]
CELL_COLUMNS = ("grouping", "month", "category", "value", "value2")


class DemandRollup(models.Model):
    """Spend, purchases and people for one month in one cell of one grouping.

    Columns a grouping does not use hold ``""``; an unmatched provider is ``-``.
    """

    grouping = models.CharField(max_length=32, choices=GROUPING_CHOICES)
    month = models.DateField(help_text="First day of the month.")
    category = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=32, blank=True)
    value2 = models.CharField(max_length=32, blank=True)
    spend_pence = models.BigIntegerField(default=0)
    purchase_count = models.IntegerField(default=0)
    holder_count = models.IntegerField(default=0, help_text="Distinct budget holders in this cell.")

    class Meta:
        ordering = ["grouping", "month", "category", "value", "value2"]
        constraints = [
            models.UniqueConstraint(fields=list(CELL_COLUMNS), name="demand_rollup_one_per_cell")
        ]
        permissions = [
            (
                "view_unrounded_figures",
                "Can see demand figures before small-number suppression (council analysts)",
            )
        ]

    def __str__(self) -> str:
        return "|".join(str(getattr(self, name)) for name in CELL_COLUMNS)


class DemandRollupMember(models.Model):
    """That a budget holder bought in a rollup cell, and how many times.

    The primary key is the cell plus the person, so the table is one compact
    index that a dashboard query reads by range (grouping, then months).
    """

    pk = models.CompositePrimaryKey(*CELL_COLUMNS, "budget_holder_id")
    grouping = models.CharField(max_length=32, choices=GROUPING_CHOICES)
    month = models.DateField()
    category = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=32, blank=True)
    value2 = models.CharField(max_length=32, blank=True)
    budget_holder_id = models.BigIntegerField()
    purchase_count = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.grouping}|{self.month}|{self.category}|{self.value}|{self.value2}:{self.budget_holder_id}"


class DemandRollupReach(models.Model):
    """In which months of a calendar year a budget holder bought in a rollup cell.

    Bit ``m - 1`` of ``months`` is set when they have a member row for month
    ``m`` (January is bit 0). Kept in step with ``DemandRollupMember`` by
    ``reach.py``: a bit is set with a person's first purchase in that month
    and cell, and cleared with their last.
    """

    pk = models.CompositePrimaryKey(
        "grouping", "year", "category", "value", "value2", "budget_holder_id"
    )
    grouping = models.CharField(max_length=32, choices=GROUPING_CHOICES)
    year = models.SmallIntegerField()
    category = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=32, blank=True)
    value2 = models.CharField(max_length=32, blank=True)
    budget_holder_id = models.BigIntegerField()
    months = models.IntegerField(default=0, help_text="Bit m-1 set: bought in month m.")

    def __str__(self) -> str:
        return f"{self.grouping}|{self.year}|{self.category}|{self.value}|{self.value2}:{self.budget_holder_id}={self.months:012b}"


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
