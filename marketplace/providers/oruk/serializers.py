"""Directory records as Open Referral UK (HSDS-UK-3.0) JSON.

Ids are the records' stable UUIDs; ids of things we hold as choices (taxonomy
terms, addresses, contacts) are UUID5s derived from them, so they never change
between calls. Fields ORUK has no place for travel as ``x_scc_*`` extension
fields (ORUK objects allow extra properties); ratings travel as
``x_scc_rating``.
"""

import uuid
from decimal import Decimal

from marketplace.providers.models import (
    WEEKDAY_CODES,
    AccessibilityFeature,
    Organisation,
    ServedGroup,
    Service,
    ServiceLocation,
)
from marketplace.providers.taxonomy import CATEGORY_DESCRIPTIONS, ServiceCategory

# Fixed namespace: changing it would change every derived id.
NAMESPACE = uuid.UUID("8a4c8b4e-6a0e-4f7e-9d0c-2f3b1c9e5d10")

CATEGORY_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:service-category")
GROUP_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:served-group")

TAXONOMIES = {
    CATEGORY_TAXONOMY_ID: {
        "name": "Social Care Connect service categories",
        "description": "The kinds of adult social care and support in the directory.",
        "version": "1",
    },
    GROUP_TAXONOMY_ID: {
        "name": "Who the service is for",
        "description": "The groups of people a service supports.",
        "version": "1",
    },
}


def category_term_id(category: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"category:{category}")


def group_term_id(group: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, f"group:{group}")


def _term(
    term_id: uuid.UUID, name: str, description: str, taxonomy_id: uuid.UUID, code: str
) -> dict:
    return {
        "id": str(term_id),
        "name": name,
        "description": description,
        "taxonomy": TAXONOMIES[taxonomy_id]["name"],
        "taxonomy_id": str(taxonomy_id),
        "term": code,
    }


def taxonomy_terms() -> list[dict]:
    """Every term we publish: service categories, then the groups served."""
    terms = [
        _term(
            category_term_id(value),
            label,
            CATEGORY_DESCRIPTIONS.get(value, label),
            CATEGORY_TAXONOMY_ID,
            value,
        )
        for value, label in ServiceCategory.choices
    ]
    terms += [
        _term(group_term_id(value), label, f"Services for: {label}.", GROUP_TAXONOMY_ID, value)
        for value, label in ServedGroup.choices
    ]
    return terms


TERMS_BY_ID = {term["id"]: term for term in taxonomy_terms()}


def taxonomy(taxonomy_id: uuid.UUID, *, with_terms: bool) -> dict:
    data = {"id": str(taxonomy_id), **TAXONOMIES[taxonomy_id]}
    if with_terms:
        data["taxonomy_terms"] = [
            t for t in TERMS_BY_ID.values() if t["taxonomy_id"] == str(taxonomy_id)
        ]
    return data


def _drop_empty(data: dict) -> dict:
    """ORUK formats (email, uri) reject empty strings: leave such fields out instead."""
    return {key: value for key, value in data.items() if value is not None and value != ""}


def _float(value) -> float | None:
    return float(value) if value is not None else None


def organisation_json(organisation: Organisation) -> dict:
    identifiers = []
    for scheme, label, value in (
        ("GB-CHC", "Charity number", organisation.charity_number),
        ("GB-COH", "Company number", organisation.company_number),
        ("GB-CQC", "CQC provider id", organisation.cqc_provider_id),
    ):
        if value:
            identifiers.append(
                {
                    "id": str(uuid.uuid5(organisation.oruk_id, scheme)),
                    "organization_id": str(organisation.oruk_id),
                    "identifier_scheme": scheme,
                    "identifier_type": label,
                    "identifier": value,
                }
            )
    return _drop_empty(
        {
            "id": str(organisation.oruk_id),
            "name": organisation.name,
            "description": organisation.description or organisation.name,
            "email": organisation.email or None,
            "website": organisation.website or None,
            "parent_organization_id": str(organisation.consortium.oruk_id)
            if organisation.consortium_id and organisation.consortium
            else None,
            "organization_identifiers": identifiers,
            "x_scc_sector": organisation.sector,
        }
    )


def _rating_json(summary) -> dict | None:
    if summary is None:
        return None
    return {
        "count": summary.count,
        "average": float(summary.mean) if summary.mean is not None else None,
        "smoothed": float(summary.smoothed) if summary.smoothed is not None else None,
        "out_of": 5,
    }


def service_list_json(service: Service, *, rating=None) -> dict:
    """A service with only its one-to-one fields (the list form)."""
    return _drop_empty(
        {
            "id": str(service.oruk_id),
            "organization_id": str(service.organisation.oruk_id),
            "name": service.name,
            "description": service.description,
            "url": service.website or None,
            "email": service.contact_email or None,
            "status": service.status,
            "minimum_age": service.minimum_age,
            "maximum_age": service.maximum_age,
            "assured_date": service.last_checked.isoformat() if service.last_checked else None,
            "last_modified": service.updated_at.isoformat(timespec="milliseconds")
            if service.updated_at
            else None,
            "x_scc_category": service.category,
            "x_scc_vacancies": {
                "count": service.vacancies,
                "confirmed_on": service.vacancies_confirmed_on.isoformat()
                if service.vacancies_confirmed_on
                else None,
            },
            "x_scc_payment_methods": [
                name
                for name, accepted in (
                    ("prepayment_card", service.accepts_prepayment_card),
                    ("marketplace_payment", service.accepts_marketplace_payment),
                    ("invoice", service.accepts_invoice),
                )
                if accepted
            ],
            "x_scc_cqc": {
                "location_id": service.cqc_location_id,
                "rating": service.cqc_rating or None,
                "rating_date": service.cqc_rating_date.isoformat()
                if service.cqc_rating_date
                else None,
            }
            if service.cqc_location_id
            else None,
        }
    ) | {"x_scc_rating": _rating_json(rating)}


def location_json(location: ServiceLocation, *, service: Service) -> dict:
    features = [row.feature for row in service.accessibility.all()]
    labels = dict(AccessibilityFeature.choices)
    return _drop_empty(
        {
            "id": str(location.oruk_id),
            "location_type": "physical",
            "name": location.name,
            "latitude": _float(location.latitude),
            "longitude": _float(location.longitude),
            "addresses": [
                {
                    "id": str(uuid.uuid5(location.oruk_id, "address")),
                    "location_id": str(location.oruk_id),
                    "address_1": location.address_1 or location.name,
                    "city": location.city or "London",
                    "state_province": "Greater London",
                    "postal_code": location.postcode,
                    "country": "GB",
                    "address_type": "physical",
                }
            ],
            "accessibility": [
                {
                    "id": str(uuid.uuid5(location.oruk_id, f"accessibility:{feature}")),
                    "location_id": str(location.oruk_id),
                    "description": labels.get(feature, feature),
                    "accessibility": feature,
                }
                for feature in features
            ],
        }
    )


def _cost_description(cost) -> str:
    description = cost.get_unit_display()
    return f"{description}; {cost.charging_basis}" if cost.charging_basis else description


def service_json(service: Service, *, rating=None) -> dict:
    """A fully nested service (the detail form)."""
    data = service_list_json(service, rating=rating)
    service_id = str(service.oruk_id)
    data["organization"] = organisation_json(service.organisation)
    data["schedules"] = [
        {
            "id": str(schedule.oruk_id),
            "service_id": service_id,
            "freq": "WEEKLY",
            "interval": 1,
            "byday": WEEKDAY_CODES[schedule.weekday],
            "opens_at": schedule.opens_at.strftime("%H:%M"),
            "closes_at": schedule.closes_at.strftime("%H:%M"),
            "description": str(schedule),
        }
        for schedule in service.schedules.all()
    ]
    data["service_areas"] = [
        {
            "id": str(area.oruk_id),
            "service_id": service_id,
            "name": area.postcode_district,
            "extent_type": "postcode_district",
            "service_area": area.postcode_district,
        }
        for area in service.areas.all()
    ]
    data["service_at_locations"] = [
        {
            "id": str(location.service_at_location_id),
            "service_id": service_id,
            "location_id": str(location.oruk_id),
            "location": location_json(location, service=service),
        }
        for location in service.locations.all()
    ]
    data["languages"] = [
        _drop_empty(
            {
                "id": str(language.oruk_id),
                "service_id": service_id,
                "name": language.name,
                "code": language.code,
            }
        )
        for language in service.languages.all()
    ]
    data["cost_options"] = [
        _drop_empty(
            {
                "id": str(cost.oruk_id),
                "service_id": service_id,
                "option": cost.option or None,
                "amount": float(Decimal(cost.amount_pence) / 100),
                "amount_description": _cost_description(cost),
                "x_scc_amount_pence": cost.amount_pence,
                "x_scc_unit": cost.unit,
                "x_scc_currency": "GBP",
            }
        )
        for cost in service.cost_options.all()
    ]
    contact = _drop_empty(
        {
            "id": str(uuid.uuid5(service.oruk_id, "contact")),
            "service_id": service_id,
            "name": service.contact_name or None,
            "email": service.contact_email or None,
        }
    )
    if service.contact_phone:
        contact["phones"] = [
            {
                "id": str(uuid.uuid5(service.oruk_id, "contact-phone")),
                "number": service.contact_phone,
            }
        ]
    data["contacts"] = [contact] if len(contact) > 2 else []
    data["funding"] = []
    terms = [TERMS_BY_ID[str(category_term_id(service.category))]]
    terms += [TERMS_BY_ID[str(group_term_id(row.care_group))] for row in service.care_groups.all()]
    data["attributes"] = [
        {
            "id": str(uuid.uuid5(service.oruk_id, f"attribute:{term['id']}")),
            "link_id": service_id,
            "link_type": "service",
            "taxonomy_term_id": term["id"],
            "taxonomy_term": term,
        }
        for term in terms
    ]
    return data


def service_at_location_json(
    location: ServiceLocation, *, rating=None, full: bool, distance=None
) -> dict:
    service = location.service
    data = {
        "id": str(location.service_at_location_id),
        "service_id": str(service.oruk_id),
        "location_id": str(location.oruk_id),
        "location": location_json(location, service=service),
        "service": service_json(service, rating=rating)
        if full
        else service_list_json(service, rating=rating),
    }
    if full:
        data["service"].pop("service_at_locations", None)
    if distance is not None:
        data["x_scc_distance_metres"] = round(distance)
    return data
