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
month, so ``DemandRollupReach`` folds them into four-year windows: one row
per cell and person with a bitmask of the 48 months they bought in. Windows
start every two years and overlap, so any period of up to 25 months lies
inside one window, and "distinct people in months m1..m2" is a count of the
rows whose mask meets the period's bits (see ``selectors.rollup_figures``):
no per-person aggregation, still exact.

Every dimension has a grouping of its own as well as its grid with
category, so "by locality" reads one reach row per person and district
rather than folding the category x locality rows per person.
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
    "locality": ("locality",),
    "care_group": ("care_group",),
    "sector": ("sector",),
    "channel": ("channel",),
    "provider": ("provider",),
    "category_locality": ("category", "locality"),
    "category_care_group": ("category", "care_group"),
    "category_sector": ("category", "sector"),
    "category_channel": ("category", "channel"),
    "category_provider": ("category", "provider"),
    "category_locality_provider": ("category", "locality", "provider"),
}
GROUPING_CHOICES = [(name, name.replace("_", " ")) for name in GROUPINGS]
CELL_COLUMNS = ("grouping", "month", "category", "value", "value2")
# Groupings whose people are also counted by month pattern (``DemandRollupPattern``): those
# with the most reach rows (a person buys from many providers), where many people share few
# patterns. The others are counted straight from the reach rows, which is fast enough for them
# and spares every write the pattern upkeep.
PATTERN_GROUPINGS = ("provider", "category_provider")
# Groupings whose spend and purchases are also kept per calendar year (``DemandRollupYear``):
# those with so many cells that a year's months are hundreds of thousands of rows to sum.
# Their people are counted without reading a row per person: the months' people summed (the
# year row's ``holder_months``), less the people who bought in more than one of the months,
# counted from the masks of two or more months, which the pattern table keeps for them.
YEAR_GROUPINGS = ("category_locality_provider",)
# The grid whose reach rows are also indexed by the grid's other dimension and person (its
# provider and person; ``DemandRollupReach.Meta.indexes``): people by provider with the grid's
# hidden cells look the few people in hidden cells up one by one rather than folding every
# reach row of the grid per person (``selectors``).
PERSON_INDEXED_GROUPING = "category_provider"
# Reach windows: WINDOW_YEARS long, one starting every WINDOW_STEP years (in even years).
WINDOW_YEARS = 4
WINDOW_STEP = 2


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


class DemandRollupYear(models.Model):
    """Spend and purchases for one calendar year in one cell of a grouping in ``YEAR_GROUPINGS``.

    The sum of the cell's ``DemandRollup`` months in that year, kept in step by the
    same upkeep. A period that covers most of a year reads the year's row less
    the months left out (``selectors``): for twelve months across a year end, one
    year's cells and two months' instead of twelve months'. People do not add up,
    but their months do: ``holder_months`` is the months' ``holder_count`` summed,
    and people in a period are those person-months less the second and later
    months of each person who bought in several of them (``selectors``, from the
    pattern table's masks of two or more months).
    """

    pk = models.CompositePrimaryKey("grouping", "year", "category", "value", "value2")
    grouping = models.CharField(max_length=32, choices=GROUPING_CHOICES)
    year = models.SmallIntegerField()
    category = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=32, blank=True)
    value2 = models.CharField(max_length=32, blank=True)
    spend_pence = models.BigIntegerField(default=0)
    purchase_count = models.IntegerField(default=0)
    holder_months = models.BigIntegerField(
        default=0,
        db_default=0,
        help_text="The months' holder counts summed: a person once for each month they bought in.",
    )

    def __str__(self) -> str:
        return f"{self.grouping}|{self.year}|{self.category}|{self.value}|{self.value2}"


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
    """In which months of a four-year window a budget holder bought in a rollup cell.

    A window starts in January of an even year (``first_year``) and covers 48
    months; bit ``(year - first_year) * 12 + month - 1`` of ``months`` is set
    when they have a member row for that month. Windows start every two
    years, so each month is in two windows (two rows per cell and person) and
    any period of up to 25 months lies inside one of them; windows whose
    ``first_year`` differ by four tile the calendar for longer periods. Kept
    in step with ``DemandRollupMember`` by ``reach.py``: a bit is set with a
    person's first purchase in that month and cell, and cleared with their last.
    """

    pk = models.CompositePrimaryKey(
        "grouping", "first_year", "category", "value", "value2", "budget_holder_id"
    )
    grouping = models.CharField(max_length=32, choices=GROUPING_CHOICES)
    first_year = models.SmallIntegerField(help_text="The window's first year (even).")
    category = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=32, blank=True)
    value2 = models.CharField(max_length=32, blank=True)
    budget_holder_id = models.BigIntegerField()
    months = models.BigIntegerField(
        default=0, help_text="Bit k set: bought in month k of the window."
    )

    class Meta:
        indexes = [
            models.Index(
                fields=["first_year", "value", "budget_holder_id"],
                condition=Q(grouping=PERSON_INDEXED_GROUPING),
                name="demand_reach_by_person",
            )
        ]

    def __str__(self) -> str:
        return f"{self.grouping}|{self.first_year}|{self.category}|{self.value}|{self.value2}:{self.budget_holder_id}={self.months:048b}"


class DemandRollupPattern(models.Model):
    """How many people in a rollup cell and window bought in exactly the same months.

    A projection of ``DemandRollupReach``: one row per distinct ``months``
    mask in a cell and window, with the number of reach rows carrying it,
    kept in step by triggers on the reach table (``reach.py``). People with a
    regular care package buy every month, so many share a mask, and "people
    in a cell in months m1..m2" is a sum over the cell's few patterns whose
    mask meets the period instead of a count over its people.

    For ``YEAR_GROUPINGS`` it keeps only masks of two or more months: there
    people are the months' holder counts summed less each person's extra
    months, which only those masks have.
    """

    pk = models.CompositePrimaryKey(
        "grouping", "first_year", "category", "value", "value2", "months"
    )
    grouping = models.CharField(max_length=32, choices=GROUPING_CHOICES)
    first_year = models.SmallIntegerField()
    category = models.CharField(max_length=32, blank=True)
    value = models.CharField(max_length=32, blank=True)
    value2 = models.CharField(max_length=32, blank=True)
    months = models.BigIntegerField()
    people = models.IntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.grouping}|{self.first_year}|{self.category}|{self.value}|{self.value2}={self.months:048b}: {self.people}"


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
