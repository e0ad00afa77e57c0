"""Demo data for commissioning: fair cost rates, block contracts, statement commentary, rollups."""

from datetime import date

from cms.demo import DemoContext
from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

from .models import (
    BlockContract,
    FairCostRate,
    MarketPositionCommentary,
    MarketPositionSection,
    Unit,
)
from .services import demand_rollups_rebuild

RATES = [
    (ServiceCategory.HOME_CARE, Unit.HOUR, 2350, "Fair Cost of Care exercise"),
    (ServiceCategory.PERSONAL_ASSISTANTS, Unit.HOUR, 1450, "Direct payment PA rate"),
    (ServiceCategory.DAY_OPPORTUNITIES, Unit.DAY, 5500, "Day opportunities framework"),
    (ServiceCategory.SHORT_BREAKS, Unit.NIGHT, 16000, "Short breaks framework"),
    (ServiceCategory.MEALS, Unit.MEAL, 650, "Community meals review"),
    (ServiceCategory.TRANSPORT, Unit.TRIP, 1200, "Transport review"),
]

COMMENTARY = {
    MarketPositionSection.INTRODUCTION: (
        "<p>This statement tells providers what people with personal budgets in the borough are "
        "choosing, and where we want the market to grow. It is built from every card payment, "
        "imported statement and marketplace payment.</p>"
    ),
    MarketPositionSection.DEMAND: (
        "<p>Home care and personal assistants take most personal budget spend. Spend on day "
        "opportunities is moving from buildings to community activities.</p>"
    ),
    MarketPositionSection.PRICES: (
        "<p>We compare what people pay with providers' published prices and our fair cost rates, "
        "and will review rates where most purchases sit above them.</p>"
    ),
    MarketPositionSection.MARKET: (
        "<p>Where one provider takes more than half of a local market we will work with others to "
        "widen choice. Block contracts are reviewed where people choose differently.</p>"
    ),
    MarketPositionSection.GAPS: (
        "<p>Searches that find nothing show where people look for support we do not yet have, "
        "particularly transport and short breaks in the north of the borough.</p>"
    ),
    MarketPositionSection.INTENTIONS: (
        "<ul><li>Grow user-led and voluntary support in every locality.</li>"
        "<li>Move day opportunities spend to personal budgets as block contracts end.</li></ul>"
    ),
}


def seed(ctx: DemoContext) -> None:
    start = date(ctx.today.year, 4, 1) if ctx.today.month >= 4 else date(ctx.today.year - 1, 4, 1)
    FairCostRate.objects.bulk_create(
        [
            FairCostRate(category=c, unit=u, rate_pence=p, valid_from=start, source=s)
            for c, u, p, s in RATES
        ]
    )
    MarketPositionCommentary.objects.bulk_create(
        [MarketPositionCommentary(section=s, body=b) for s, b in COMMENTARY.items()]
    )
    organisations = list(Organisation.objects.order_by("pk")[:40])
    contracts = []
    categories = [
        ServiceCategory.DAY_OPPORTUNITIES,
        ServiceCategory.HOME_CARE,
        ServiceCategory.TRANSPORT,
    ]
    for organisation, category in zip(
        ctx.rng.sample(organisations, min(3, len(organisations))), categories, strict=False
    ):
        contracts.append(
            BlockContract(
                organisation=organisation,
                category=category,
                annual_value_pence=ctx.rng.randrange(150_000, 600_000) * 100,
                starts_on=start.replace(year=start.year - 1),
                ends_on=start.replace(year=start.year + 2),
                reference=f"BLK-{len(contracts) + 1:03d}",
            )
        )
    BlockContract.objects.bulk_create(contracts)
    # Earlier seeders bulk-load purchases without the per-purchase service: build once here.
    demand_rollups_rebuild()
