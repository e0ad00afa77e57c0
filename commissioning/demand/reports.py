"""The tables of the dashboard, its exports and the Market Position Statement.

One builder per table, so a page, its CSV and XLSX and the printed statement
always show the same numbers. With ``published=True`` every figure about
people passes through disclosure control first.
"""

from dataclasses import dataclass, field

from django.urls import reverse

from .disclosure import (
    DisclosureError,
    analyst_figures,
    publish_count,
    published_figures,
    round_spend,
)
from .selectors import (
    DIMENSION_LABELS,
    DemandQuery,
    block_contract_trends,
    demand_concentration,
    demand_spend,
    demand_with_changes,
    direct_payment_take_up,
    label_rows,
    market_concentration,
    price_spread,
    thin_supply,
    unmet_demand,
    unspent_budgets,
)

SUPPRESSED_TEXT = "[c]"


@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text, pence, count, percent, number


@dataclass
class Table:
    slug: str
    title: str
    columns: list[Column]
    rows: list[dict]
    note: str = ""
    chart_key: str = ""  # the column the bar chart draws
    hidden_cells: int = 0
    alerts: list[str] = field(default_factory=list)

    def chart(self) -> list[dict]:
        """Bars as percentages of the largest value, with the value written out."""
        if not self.chart_key:
            return []
        values = [r.get(self.chart_key) for r in self.rows]
        top = max((v for v in values if isinstance(v, int | float) and v > 0), default=0)
        kind = next(c.kind for c in self.columns if c.key == self.chart_key)
        bars = []
        for row in self.rows:
            value = row.get(self.chart_key)
            width = round(value * 100 / top) if top and value and value > 0 else 0
            bars.append(
                {"label": row.get("label", ""), "width": width, "text": format_value(value, kind)}
            )
        return bars


def format_value(value, kind: str) -> str:
    if value is None:
        return SUPPRESSED_TEXT if kind in ("pence", "count") else "–"
    if kind == "pence":
        sign = "-" if value < 0 else ""
        pounds, pennies = divmod(abs(int(value)), 100)
        return f"{sign}£{pounds:,}" if pennies == 0 else f"{sign}£{pounds:,}.{pennies:02d}"
    if kind == "count":
        return f"{int(value):,}"
    if kind == "percent":
        return f"{value:+.1f}%" if isinstance(value, float) else f"{value}%"
    if kind == "share":
        return f"{float(value):.1f}%"
    return str(value)


def _figures(query: DemandQuery, published: bool) -> tuple[list[dict], int]:
    if published:
        result = published_figures(query=query)
        return result.rows, result.hidden_cells
    return analyst_figures(query=query), 0


FIGURE_COLUMNS = [
    Column("spend_pence", "Spend", "pence"),
    Column("purchases", "Purchases", "count"),
    Column("holders", "People", "count"),
    Column("change_previous", "Change on previous period", "percent"),
    Column("change_last_year", "Change on a year before", "percent"),
]


def breakdown_table(
    *, query: DemandQuery, by: str, published: bool, drill: dict | None = None
) -> Table:
    """Spend, purchases and people by one dimension, with changes against earlier periods."""
    grouped = query.with_changes(group_by=(by,))
    rows, hidden = _figures(grouped, published)
    previous, _ = _figures(grouped.previous_period(), published)
    last_year, _ = _figures(grouped.last_year(), published)
    demand_with_changes(rows=rows, previous=previous, last_year=last_year, group_by=(by,))
    label_rows(rows, (by,))
    rows.sort(key=lambda r: -(r["spend_pence"] or -1))
    if drill is not None:
        for row in rows:
            row["link"] = drill_link(query=query, by=by, value=row[by], then=drill.get(by))
    return Table(
        slug=f"by-{by}",
        title=f"Spend by {DIMENSION_LABELS[by].lower()}",
        columns=[Column("label", DIMENSION_LABELS[by]), *FIGURE_COLUMNS],
        rows=rows,
        chart_key="spend_pence",
        hidden_cells=hidden,
        note=_suppression_note(hidden, published),
    )


def monthly_table(*, query: DemandQuery, published: bool) -> Table:
    rows, hidden = _figures(query.with_changes(group_by=("month",)), published)
    label_rows(rows, ("month",))
    return Table(
        slug="by-month",
        title="Spend by month",
        columns=[Column("label", "Month"), *FIGURE_COLUMNS[:3]],
        rows=rows,
        chart_key="spend_pence",
        hidden_cells=hidden,
        note=_suppression_note(hidden, published),
    )


def concentration_table(*, query: DemandQuery, published: bool) -> Table:
    """Market concentration per category (published) or per category and locality (analysts)."""
    market_dims = ("category",) if published else ("category", "locality")
    by_provider = query.with_changes(group_by=(*market_dims, "provider"))
    markets = None
    if not published:  # gathered per market by the backend where it can
        markets = demand_concentration(query=query, market_dims=market_dims)
    hidden = 0
    if markets is None:
        try:
            if published:
                rows, hidden = _figures(by_provider, published)
            else:  # exact figures: shares of spend need no count of people
                rows = demand_spend(query=by_provider)
        except DisclosureError:
            rows = []
        rows = [r for r in rows if not r.get("suppressed")]
        markets = market_concentration(rows=rows, market_dims=market_dims)
    for market in markets:
        market["label"] = ", ".join(label_rows([dict(market)], market_dims)[0]["label"].split(", "))
        if published:
            market["spend_pence"] = round_spend(market["spend_pence"])
    alerts = [
        f"{m['largest_provider']} takes {m['largest_share']:.0f}% of spend on {m['label']}."
        for m in markets
        if m["alert"]
    ]
    return Table(
        slug="concentration",
        title="Market concentration",
        columns=[
            Column("label", "Market"),
            Column("spend_pence", "Spend", "pence"),
            Column("providers", "Providers paid", "count"),
            Column("largest_provider", "Largest provider"),
            Column("largest_share", "Largest share", "share"),
            Column("top3_share", "Top 3 share", "share"),
            Column("hhi", "HHI (0 to 10,000)", "count"),
        ],
        rows=markets,
        chart_key="largest_share",
        hidden_cells=hidden,
        alerts=alerts,
        note=(
            "HHI is the Herfindahl–Hirschman index: the sum of each provider's squared percentage "
            "share. Above 2,500 a market is highly concentrated. "
            + _suppression_note(hidden, published)
        ).strip(),
    )


def price_table(*, query: DemandQuery, published: bool = False) -> Table:
    """What was paid per purchase beside listed prices and the fair cost rate, per category.

    Published, a category's paid prices show only when they rest on at least
    8 purchases, and never the lowest or highest single amount.
    """
    rows = []
    for item in price_spread(query=query):
        paid = item["paid"] or {}
        if published and paid and paid["count"] < 8:
            paid = {}
        units = item["units"] or [{}]
        for unit in units:
            listed = unit.get("listed") or {}
            rows.append(
                {
                    "label": item["label"],
                    "paid_count": paid.get("count"),
                    "paid_q1": paid.get("q1"),
                    "paid_median": paid.get("median"),
                    "paid_q3": paid.get("q3"),
                    "paid_spread": (paid["q3"] - paid["q1"]) if paid else None,
                    "unit": unit.get("unit_label", ""),
                    "listed_median": listed.get("median"),
                    "listed_range": (
                        f"{format_value(listed['lowest'], 'pence')} to "
                        f"{format_value(listed['highest'], 'pence')}"
                        if listed
                        else ""
                    ),
                    "fair_cost_pence": unit.get("fair_cost_pence"),
                }
            )
    return Table(
        slug="prices",
        title="Prices paid, listed and fair cost",
        columns=[
            Column("label", "Service category"),
            Column("paid_q1", "Paid per purchase: lower quartile", "pence"),
            Column("paid_median", "Paid per purchase: median", "pence"),
            Column("paid_q3", "Paid per purchase: upper quartile", "pence"),
            Column("paid_spread", "Spread (upper minus lower quartile)", "pence"),
            Column("unit", "Unit"),
            Column("listed_median", "Listed price: median", "pence"),
            Column("listed_range", "Listed prices"),
            Column("fair_cost_pence", "Fair cost rate", "pence"),
        ],
        rows=rows,
        chart_key="paid_median",
        note=(
            "Paid prices are amounts per purchase (card transactions and marketplace payments), "
            "which may cover several hours or sessions. Listed prices are providers' published "
            "prices per unit; the fair cost rate is set by the council."
        ),
    )


def sector_table(*, query: DemandQuery, published: bool) -> Table:
    table = breakdown_table(query=query, by="sector", published=published)
    table.title = "Sector mix"
    return table


def _maybe_round(pence: int, published: bool) -> int:
    return round_spend(pence) if published else pence


def block_contract_table(*, query: DemandQuery, published: bool = False) -> Table:
    rows = []
    for trend in block_contract_trends(end=query.end):
        contract = trend["contract"]
        rows.append(
            {
                "label": f"{contract.organisation.name} – {contract.get_category_display()}",
                "annual_value_pence": contract.annual_value_pence,
                "spend_before_pence": _maybe_round(trend["spend_before_pence"], published),
                "spend_now_pence": _maybe_round(trend["spend_now_pence"], published),
                "share_before": trend["share_before"],
                "share_now": trend["share_now"],
                "moving_away": "Yes" if trend["moving_away"] else "No",
            }
        )
    return Table(
        slug="block-contracts",
        title="Block contracts and personal budget spend",
        columns=[
            Column("label", "Contract"),
            Column("annual_value_pence", "Annual value", "pence"),
            Column("spend_before_pence", "Budget spend, 3 months before", "pence"),
            Column("spend_now_pence", "Budget spend, last 3 months", "pence"),
            Column("share_before", "Share of category before", "share"),
            Column("share_now", "Share of category now", "share"),
            Column("moving_away", "Spend moving away"),
        ],
        rows=rows,
        alerts=[
            f"People are choosing providers other than {r['label']}."
            for r in rows
            if r["moving_away"] == "Yes"
        ],
    )


def unmet_table(*, query: DemandQuery, published: bool) -> Table:
    rows = []
    for item in unmet_demand(start=query.start, end=query.end):
        searches = publish_count(item["searches"]) if published else item["searches"]
        rows.append(
            {
                "label": f"{item['category_label']} in {item['postcode_district'] or 'any area'}",
                "searches": searches,
            }
        )
    return Table(
        slug="unmet-demand",
        title="Searches that found nothing",
        columns=[Column("label", "What and where"), Column("searches", "Searches", "count")],
        rows=rows,
        chart_key="searches",
    )


def thin_supply_table() -> Table:
    rows = [
        {"label": f"{item['label']} in {item['district']}", "services": item["services"]}
        for item in thin_supply()
    ]
    return Table(
        slug="thin-supply",
        title="Categories with few services nearby",
        columns=[
            Column("label", "Category and district"),
            Column("services", "Live services", "count"),
        ],
        rows=rows,
        note="Districts where budget holders buy anything; a service counts where it lists the area or has a location.",
    )


def unspent_table(*, published: bool) -> Table:
    result = unspent_budgets()
    rows = []
    for item in result["rows"]:
        holders = publish_count(item["holders"]) if published else item["holders"]
        hidden = holders is None
        rows.append(
            {
                "label": item["label"],
                "holders": holders,
                "surplus_pence": None
                if hidden
                else (round_spend(item["surplus_pence"]) if published else item["surplus_pence"]),
            }
        )
    return Table(
        slug="unspent",
        title=f"Budgets holding more than {result['weeks']} weeks of funding",
        columns=[
            Column("label", "Care group"),
            Column("holders", "People", "count"),
            Column("surplus_pence", "Unspent above the limit", "pence"),
        ],
        rows=rows,
        chart_key="surplus_pence",
    )


def take_up_table(*, published: bool) -> Table:
    rows = []
    for item in direct_payment_take_up():
        people = publish_count(item["people"]) if published else item["people"]
        direct = publish_count(item["direct"]) if published else item["direct"]
        share = round(item["direct"] * 100 / item["people"]) if item["people"] else None
        if people is None or direct is None:
            share = None
        rows.append({"label": item["label"], "people": people, "direct": direct, "share": share})
    return Table(
        slug="take-up",
        title="Direct payment take-up (ASCOF 3D)",
        columns=[
            Column("label", "Care group"),
            Column("people", "People with a personal budget", "count"),
            Column("direct", "Taking a direct payment", "count"),
            Column("share", "Share taking a direct payment", "share"),
        ],
        rows=rows,
        chart_key="share",
        note=(
            "Everyone counted receives self-directed support (a personal budget). A direct payment "
            "counts when all or part of the budget is paid to the person."
        ),
    )


def _suppression_note(hidden: int, published: bool) -> str:
    if not published:
        return ""
    if not hidden:
        return "Counts are rounded to the nearest 5 and spend to the nearest £10."
    return (
        f"{hidden} small groups (fewer than 8 people, and some beside them) are left out of "
        "every figure so no one can be identified. Counts are rounded to the nearest 5 and "
        "spend to the nearest £10. [c] means a figure is withheld."
    )


DRILL_NEXT = {
    "category": "locality",
    "locality": "provider",
    "care_group": "category",
    "sector": "provider",
}


def drill_link(*, query: DemandQuery, by: str, value, then: str | None) -> str:
    """The dashboard filtered to one value, broken down by the next dimension."""
    if then is None or value in (None, ""):
        return ""
    from django.http import QueryDict

    params = QueryDict(mutable=True)
    params["from"] = query.start.isoformat()[:7]
    params["to"] = query.end.isoformat()[:7]
    for name, values in query.filters:
        params.setlist(name, list(values))
    params[by] = value
    params["by"] = then
    return f"{reverse('demand:dashboard')}?{params.urlencode()}"


TABLE_SLUGS = (
    "by-category",
    "by-locality",
    "by-care_group",
    "by-provider",
    "by-sector",
    "by-channel",
    "by-month",
    "concentration",
    "prices",
    "block-contracts",
    "unmet-demand",
    "thin-supply",
    "unspent",
    "take-up",
)


def build_table(slug: str, *, query: DemandQuery, published: bool) -> Table:
    """One table by its slug (for exports)."""
    if slug.startswith("by-") and slug != "by-month":
        return breakdown_table(query=query, by=slug[3:], published=published)
    builders = {
        "by-month": lambda: monthly_table(query=query, published=published),
        "concentration": lambda: concentration_table(query=query, published=published),
        "prices": lambda: price_table(query=query, published=published),
        "block-contracts": lambda: block_contract_table(query=query, published=published),
        "unmet-demand": lambda: unmet_table(query=query, published=published),
        "thin-supply": thin_supply_table,
        "unspent": lambda: unspent_table(published=published),
        "take-up": lambda: take_up_table(published=published),
    }
    return builders[slug]()
