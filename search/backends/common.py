"""Facet definitions shared by both backends: which document field, and how to label values."""

from marketplace.providers.models import AccessibilityFeature, Sector
from marketplace.providers.taxonomy import ServiceCategory

from ..filters import (
    CARE_GROUP_CHOICES,
    CQC_MINIMUM_CHOICES,
    CQC_MINIMUM_RANK,
    CQC_RATING_LABELS,
    DAY_CHOICES,
)
from ..results import FacetValue

# facet name (== query parameter) -> document field
FACET_FIELDS = {
    "category": "category",
    "care_group": "care_groups",
    "sector": "sector",
    "cqc_rating": "cqc_rating",
    "card": "takes_card",
    "language": "languages",
    "day": "days",
    "vacancies": "has_vacancies",
    "accessibility": "accessibility",
}

_LABELS = {
    "category": dict(ServiceCategory.choices),
    "care_group": dict(CARE_GROUP_CHOICES),
    "sector": dict(Sector.choices),
    "cqc_rating": CQC_RATING_LABELS,
    "day": dict(DAY_CHOICES),
    "accessibility": dict(AccessibilityFeature.choices),
}
# Facets listed in a fixed order: each value's place (unknown values go last).
_ORDER = {
    name: {value: place for place, value in enumerate(values)}
    for name, values in {
        "category": list(dict(ServiceCategory.choices)),
        "care_group": [value for value, _ in CARE_GROUP_CHOICES],
        "day": [value for value, _ in DAY_CHOICES],
        "cqc_rating": list(CQC_RATING_LABELS),
    }.items()
}


def facet_values(counts: dict[str, dict], cleaned: dict) -> dict[str, list[FacetValue]]:
    """Turn ``{facet: {value: count}}`` into labelled, ordered facet lists.

    Each facet's counts apply every filter but its own (both backends), so the
    other values show what choosing them instead would give. Boolean facets
    (card, vacancies) keep only the count of ``True``; a chosen value stays
    listed with 0 when nothing matches.
    """
    facets: dict[str, list[FacetValue]] = {}
    for name, by_value in counts.items():
        if name in {"card", "vacancies"}:
            count = by_value.get(True, 0)
            facets[name] = [FacetValue("1", "", count, bool(cleaned.get(name)))]
            continue
        if name == "cqc_rating":
            facets[name] = _cqc_minimum_facet(by_value, cleaned)
            continue
        labels = _LABELS.get(name, {})
        order = _ORDER.get(name)
        values = [
            FacetValue(
                str(value),
                labels.get(value, str(value).title() if name == "language" else str(value)),
                count,
                str(cleaned.get(name) or "") == str(value),
            )
            for value, count in by_value.items()
            if count
        ]
        chosen = str(cleaned.get(name) or "")
        if chosen and not any(facet.selected for facet in values):
            # Still show what was chosen (with 0), so the select keeps the choice.
            values.append(FacetValue(chosen, labels.get(chosen, chosen.title()), 0, True))
        if order:
            values.sort(key=lambda facet: order.get(facet.value, 99))
        else:
            values.sort(key=lambda facet: (-facet.count, facet.label))
        facets[name] = values
    return facets


def _cqc_minimum_facet(by_rating: dict, cleaned: dict) -> list[FacetValue]:
    """The CQC filter is "at least": Good or better counts Outstanding and Good services."""
    from marketplace.providers.models import CQC_RATING_RANK

    rank_of = {str(rating.value): rank for rating, rank in CQC_RATING_RANK.items()}
    values = []
    for value, label in CQC_MINIMUM_CHOICES:
        count = sum(
            n
            for rating, n in by_rating.items()
            if rank_of.get(str(rating), 0) >= CQC_MINIMUM_RANK[value]
        )
        chosen = cleaned.get("cqc_rating") == value
        if count or chosen:
            values.append(FacetValue(value, label, count, chosen))
    return values
