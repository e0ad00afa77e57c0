"""The council's card rules: blocked merchant categories, cash codes and plain-English reasons."""

from marketplace.providers.taxonomy import ServiceCategory

# Stripe's merchant category names with their ISO 18245 codes, and the words
# we use for them on a statement ("Declined: betting shops cannot be paid ...").
BLOCKED_CATEGORIES: dict[str, tuple[str, str]] = {
    "betting_casino_gambling": ("7995", "betting shops and casinos"),
    "drinking_places": ("5813", "pubs and bars"),
    "package_stores_beer_wine_and_liquor": ("5921", "off-licences"),
    "cigar_stores_and_stands": ("5993", "tobacco shops"),
    "dating_escort_services": ("7273", "dating and escort services"),
    "pawn_shops": ("5933", "pawn shops"),
    "wires_money_orders": ("4829", "money transfers"),
}
CASH_CATEGORIES: dict[str, tuple[str, str]] = {
    "automated_cash_disburse": ("6011", "cash machines"),
    "manual_cash_disburse": ("6010", "cash withdrawals"),
}
BLOCKED_MCCS = {code: name for name, (code, _) in BLOCKED_CATEGORIES.items()}
CASH_MCCS = {code: name for name, (code, _) in CASH_CATEGORIES.items()}


def category_words(category: str) -> str:
    for table in (BLOCKED_CATEGORIES, CASH_CATEGORIES):
        if category in table:
            return table[category][1]
    return category.replace("_", " ")


def blocked_category_for(*, category: str, mcc: str) -> str | None:
    """Stripe's name of the blocked category this merchant falls in, if any."""
    if category in BLOCKED_CATEGORIES:
        return category
    return BLOCKED_MCCS.get(mcc)


def is_cash(*, category: str, mcc: str) -> bool:
    return category in CASH_CATEGORIES or mcc in CASH_MCCS


def blocked_categories_for_plan(plan) -> list[str]:
    """Stripe ``spending_controls.blocked_categories`` for a support plan."""
    blocked = list(BLOCKED_CATEGORIES)
    if not plan.cash_allowed:
        blocked += list(CASH_CATEGORIES)
    return blocked


def service_category_words(category: str) -> str:
    return (
        ServiceCategory(category).label.lower() if category in ServiceCategory.values else category
    )
