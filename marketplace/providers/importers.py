"""Loading other people's directory data: Open Referral UK feeds, flat CSV files and CQC ratings.

Imports are checked in full before anything is written. Each bad row or item
is reported by its number with a reason; by default a file with any bad row
imports nothing, so a file is never half-imported. Imported services arrive as
drafts in the "Directory moderation" workflow: nobody sees them until a
moderator approves.

Flat CSV header (one service per row; lists are separated by ";"):

    organisation_name, organisation_sector, organisation_charity_number,
    organisation_company_number, organisation_email, organisation_website,
    service_name, description, category, care_groups, minimum_age, maximum_age,
    price_pounds, price_unit, charging_basis, areas, location_name, address,
    postcode, days, opens_at, closes_at, languages, accepts_prepayment_card,
    phone, email, website, cqc_location_id

``organisation_name``, ``service_name``, ``description`` and ``category`` are
required. ``category`` and ``care_groups`` take the codes or the labels of
ServiceCategory and ServedGroup; ``days`` takes MO;TU or Monday;Tuesday.
"""

import csv
import io
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from .geo import PostcodeError, coordinates_for_postcode, normalise_postcode, postcode_district
from .models import (
    WEEKDAY_CODES,
    CostOption,
    CostUnit,
    CqcRating,
    Organisation,
    RegularSchedule,
    Sector,
    ServedGroup,
    Service,
    ServiceArea,
    ServiceCareGroup,
    ServiceLanguage,
    ServiceLocation,
    ServiceStatus,
    Weekday,
)
from .services import directory_record_submit, service_live_update
from .taxonomy import ServiceCategory

CSV_HEADER = [
    "organisation_name",
    "organisation_sector",
    "organisation_charity_number",
    "organisation_company_number",
    "organisation_email",
    "organisation_website",
    "service_name",
    "description",
    "category",
    "care_groups",
    "minimum_age",
    "maximum_age",
    "price_pounds",
    "price_unit",
    "charging_basis",
    "areas",
    "location_name",
    "address",
    "postcode",
    "days",
    "opens_at",
    "closes_at",
    "languages",
    "accepts_prepayment_card",
    "phone",
    "email",
    "website",
    "cqc_location_id",
]
REQUIRED_CSV_COLUMNS = ["organisation_name", "service_name", "description", "category"]


class ImportFileError(ValueError):
    """The file as a whole cannot be read: nothing is imported."""


@dataclass
class RowProblem:
    number: int
    reason: str

    def __str__(self) -> str:
        return f"Item {self.number}: {self.reason}"


@dataclass
class OrganisationData:
    name: str
    oruk_id: uuid.UUID | None = None
    sector: str = Sector.VOLUNTARY
    description: str = ""
    charity_number: str = ""
    company_number: str = ""
    email: str = ""
    website: str = ""


@dataclass
class ServiceData:
    """One service, checked and ready to write."""

    number: int
    organisation: OrganisationData
    name: str
    description: str
    category: str
    oruk_id: uuid.UUID | None = None
    status: str = ServiceStatus.ACTIVE
    minimum_age: int | None = None
    maximum_age: int | None = None
    care_groups: list[str] = field(default_factory=list)
    prices: list[dict] = field(default_factory=list)
    areas: list[str] = field(default_factory=list)
    locations: list[dict] = field(default_factory=list)
    schedules: list[dict] = field(default_factory=list)
    languages: list[tuple[str, str]] = field(default_factory=list)
    accepts_prepayment_card: bool = False
    contact_phone: str = ""
    contact_email: str = ""
    website: str = ""
    cqc_location_id: str = ""


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    imported: bool = False


# Shared readers ---------------------------------------------------------------

_CATEGORY_LOOKUP = {value: value for value in ServiceCategory.values} | {
    label.lower(): value for value, label in ServiceCategory.choices
}
_GROUP_LOOKUP = {value: value for value in ServedGroup.values} | {
    label.lower(): value for value, label in ServedGroup.choices
}
_DAY_LOOKUP = {code: index for index, code in enumerate(WEEKDAY_CODES)} | {
    day.label.upper(): day.value for day in Weekday
}
_UNIT_WORDS = {unit.value: unit.value for unit in CostUnit} | {
    "visit": CostUnit.HOUR,
    "trip": CostUnit.JOURNEY,
}


class _Bad(ValueError):
    pass


def _category(value: str) -> str:
    found = _CATEGORY_LOOKUP.get(value.strip().lower())
    if not found:
        raise _Bad(
            f"category “{value}” is not one we know (for example home_care, meals, transport)"
        )
    return found


def _group(value: str) -> str:
    found = _GROUP_LOOKUP.get(value.strip().lower())
    if not found:
        raise _Bad(f"care group “{value}” is not one we know (for example older_people, carers)")
    return found


def _age(value, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise _Bad(f"{name} “{value}” is not a number") from None
    if number < 0 or number > 120 or number != number.to_integral_value():
        raise _Bad(f"{name} must be a whole number of years from 0 to 120")
    return int(number)


def _pence(value) -> int:
    try:
        amount = Decimal(str(value).strip().lstrip("£").replace(",", ""))
    except InvalidOperation:
        raise _Bad(f"price “{value}” is not an amount in pounds") from None
    if not amount.is_finite():  # "NaN" and "Infinity" parse, but are no price
        raise _Bad(f"price “{value}” is not an amount in pounds")
    if amount < 0 or amount > 100000:
        raise _Bad(f"price £{amount} is outside £0 to £100,000")
    return int((amount * 100).quantize(Decimal("1")))


def _unit(text: str) -> str:
    for word in re.findall(r"[a-z]+", (text or "").lower()):
        if word in _UNIT_WORDS:
            return _UNIT_WORDS[word]
        if word.rstrip("s") in _UNIT_WORDS:
            return _UNIT_WORDS[word.rstrip("s")]
    raise _Bad(
        f"cannot tell what the price is charged per from “{text}” (use hour, session, meal, week or journey)"
    )


def _district(value: str) -> str:
    try:
        district = postcode_district(value)
        coordinates_for_postcode(district)
    except PostcodeError as error:
        raise _Bad(str(error)) from None
    return district


def _time(value: str, name: str) -> time:
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::\d{2})?", (value or "").strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise _Bad(f"{name} “{value}” is not a time like 09:30")
    return time(int(match.group(1)), int(match.group(2)))


def _days(value: str) -> list[int]:
    days = []
    for part in re.split(r"[;,\s]+", value.strip().upper()):
        if not part:
            continue
        if part not in _DAY_LOOKUP:
            raise _Bad(f"day “{part}” is not a day of the week (use MO, TU, ... or Monday)")
        days.append(_DAY_LOOKUP[part])
    return days


def _location(name: str, address: str, postcode: str, latitude=None, longitude=None) -> dict:
    try:
        postcode = normalise_postcode(postcode)
    except PostcodeError as error:
        raise _Bad(str(error)) from None
    if latitude in (None, "") or longitude in (None, ""):
        try:
            latitude, longitude = coordinates_for_postcode(postcode)
        except PostcodeError as error:
            raise _Bad(str(error)) from None
    try:
        latitude, longitude = Decimal(str(latitude)), Decimal(str(longitude))
    except InvalidOperation:
        raise _Bad("latitude and longitude must be numbers") from None
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _Bad("latitude or longitude is out of range")
    return {
        "name": name[:200] or "Main location",
        "address_1": address[:200],
        "postcode": postcode,
        "latitude": latitude.quantize(Decimal("0.000001")),
        "longitude": longitude.quantize(Decimal("0.000001")),
    }


def _uuid_or_none(value, what: str) -> uuid.UUID | None:
    if value in (None, ""):
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise _Bad(f"{what} “{value}” is not a UUID") from None


# Open Referral UK JSON ------------------------------------------------------


def _oruk_items(document) -> list:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if isinstance(document.get("contents"), list):
            return document["contents"]
        if isinstance(document.get("services"), list):
            # An organisation package: its services, each knowing its organisation.
            organisation = {k: v for k, v in document.items() if k != "services"}
            return [
                {**item, "organization": item.get("organization") or organisation}
                for item in document["services"]
            ]
        if "name" in document and "status" in document:
            return [document]
    raise ImportFileError(
        "This is not an Open Referral UK service list: expected a list of services, "
        "a page with “contents”, an organisation with “services”, or one service."
    )


def _oruk_service(number: int, item) -> ServiceData:
    if not isinstance(item, dict):
        raise _Bad("is not a JSON object")
    name = str(item.get("name") or "").strip()
    if not name:
        raise _Bad("has no name")
    status = item.get("status") or ServiceStatus.ACTIVE
    if status not in ServiceStatus.values:
        raise _Bad(f"status “{status}” is not active, inactive, defunct or temporarily closed")
    organisation = item.get("organization")
    if not isinstance(organisation, dict) or not str(organisation.get("name") or "").strip():
        raise _Bad("has no organization with a name")
    identifiers = {
        entry.get("identifier_scheme"): entry.get("identifier")
        for entry in organisation.get("organization_identifiers") or []
        if isinstance(entry, dict)
    }
    sector = organisation.get("x_scc_sector") or Sector.VOLUNTARY
    if sector not in Sector.values:
        raise _Bad(f"organisation sector “{sector}” is not one we know")
    organisation_data = OrganisationData(
        name=organisation["name"].strip()[:200],
        oruk_id=_uuid_or_none(organisation.get("id"), "organization id"),
        sector=sector,
        description=str(organisation.get("description") or ""),
        charity_number=str(identifiers.get("GB-CHC") or "")[:12],
        company_number=str(identifiers.get("GB-COH") or "")[:10],
        email=str(organisation.get("email") or ""),
        website=str(organisation.get("website") or ""),
    )
    category = item.get("x_scc_category")
    groups = []
    for attribute in item.get("attributes") or []:
        term = (attribute or {}).get("taxonomy_term") or {}
        for candidate in (term.get("term"), term.get("name")):
            if not candidate:
                continue
            key = str(candidate).strip().lower()
            if key in _CATEGORY_LOOKUP and category is None:
                category = _CATEGORY_LOOKUP[key]
            elif key in _GROUP_LOOKUP:
                groups.append(_GROUP_LOOKUP[key])
    if category is None:
        raise _Bad(
            "has no taxonomy term naming one of our service categories (for example “Home care”)"
        )
    prices = []
    for cost in item.get("cost_options") or []:
        if cost.get("amount") is None:
            continue
        prices.append(
            {
                "amount_pence": _pence(cost["amount"]),
                "unit": cost.get("x_scc_unit")
                or _unit(cost.get("amount_description") or cost.get("option") or ""),
                "option": str(cost.get("option") or "")[:100],
                "charging_basis": str(cost.get("amount_description") or "")[:200],
            }
        )
    areas = []
    for area in item.get("service_areas") or []:
        value = area.get("service_area") or area.get("name") or ""
        district = _district(value)
        if district not in areas:
            areas.append(district)
    locations = []
    for link in item.get("service_at_locations") or []:
        location = link.get("location") or {}
        address = (location.get("addresses") or [{}])[0]
        if not address.get("postal_code"):
            raise _Bad(f"location “{location.get('name', '')}” has no postcode")
        locations.append(
            _location(
                str(location.get("name") or ""),
                str(address.get("address_1") or ""),
                address["postal_code"],
                location.get("latitude"),
                location.get("longitude"),
            )
        )
    schedules = []
    for schedule in item.get("schedules") or []:
        if (
            not schedule.get("byday")
            or not schedule.get("opens_at")
            or not schedule.get("closes_at")
        ):
            continue
        opens, closes = (
            _time(schedule["opens_at"], "opens_at"),
            _time(schedule["closes_at"], "closes_at"),
        )
        if closes <= opens:
            raise _Bad(f"a schedule closes ({closes:%H:%M}) before it opens ({opens:%H:%M})")
        for weekday in _days(schedule["byday"]):
            schedules.append({"weekday": weekday, "opens_at": opens, "closes_at": closes})
    languages = [
        (
            str(language.get("name") or language.get("code") or "")[:60],
            str(language.get("code") or "")[:8],
        )
        for language in item.get("languages") or []
        if language.get("name") or language.get("code")
    ]
    return ServiceData(
        number=number,
        organisation=organisation_data,
        oruk_id=_uuid_or_none(item.get("id"), "service id"),
        name=name[:200],
        description=str(item.get("description") or name),
        category=category,
        status=status,
        minimum_age=_age(item.get("minimum_age"), "minimum_age"),
        maximum_age=_age(item.get("maximum_age"), "maximum_age"),
        care_groups=list(dict.fromkeys(groups)),
        prices=prices,
        areas=areas,
        locations=locations,
        schedules=schedules,
        languages=languages,
        contact_email=str(item.get("email") or ""),
        website=str(item.get("url") or ""),
    )


def parse_oruk(text: str) -> tuple[list[ServiceData], list[RowProblem]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImportFileError(f"The file is not valid JSON: {error}.") from None
    rows, problems = [], []
    for number, item in enumerate(_oruk_items(document), start=1):
        try:
            rows.append(_oruk_service(number, item))
        except _Bad as error:
            problems.append(RowProblem(number, str(error)))
    return rows, problems


# Flat CSV -------------------------------------------------------------------


def _csv_service(number: int, row: dict) -> ServiceData:
    for column in REQUIRED_CSV_COLUMNS:
        if not (row.get(column) or "").strip():
            raise _Bad(f"{column} is empty")
    sector = (row.get("organisation_sector") or Sector.VOLUNTARY).strip().lower()
    sector = {label.lower(): value for value, label in Sector.choices}.get(sector, sector)
    if sector not in Sector.values:
        raise _Bad(f"organisation_sector “{row['organisation_sector']}” is not one we know")
    prices = []
    if (row.get("price_pounds") or "").strip():
        prices.append(
            {
                "amount_pence": _pence(row["price_pounds"]),
                "unit": _unit(row.get("price_unit") or ""),
                "option": "",
                "charging_basis": (row.get("charging_basis") or "")[:200],
            }
        )
    locations = []
    if (row.get("postcode") or "").strip():
        locations.append(
            _location(row.get("location_name") or "", row.get("address") or "", row["postcode"])
        )
    schedules = []
    if (row.get("days") or "").strip():
        opens = _time(row.get("opens_at") or "", "opens_at")
        closes = _time(row.get("closes_at") or "", "closes_at")
        if closes <= opens:
            raise _Bad("closes_at must be after opens_at")
        schedules = [
            {"weekday": d, "opens_at": opens, "closes_at": closes} for d in _days(row["days"])
        ]
    split = lambda value: [part.strip() for part in (value or "").split(";") if part.strip()]  # noqa: E731
    minimum_age = _age(row.get("minimum_age"), "minimum_age")
    maximum_age = _age(row.get("maximum_age"), "maximum_age")
    if minimum_age is not None and maximum_age is not None and maximum_age < minimum_age:
        raise _Bad("maximum_age is less than minimum_age")
    return ServiceData(
        number=number,
        organisation=OrganisationData(
            name=row["organisation_name"].strip()[:200],
            sector=sector,
            charity_number=(row.get("organisation_charity_number") or "").strip()[:12],
            company_number=(row.get("organisation_company_number") or "").strip()[:10],
            email=(row.get("organisation_email") or "").strip(),
            website=(row.get("organisation_website") or "").strip(),
        ),
        name=row["service_name"].strip()[:200],
        description=row["description"].strip(),
        category=_category(row["category"]),
        minimum_age=minimum_age,
        maximum_age=maximum_age,
        care_groups=list(dict.fromkeys(_group(g) for g in split(row.get("care_groups")))),
        prices=prices,
        areas=list(dict.fromkeys(_district(a) for a in split(row.get("areas")))),
        locations=locations,
        schedules=schedules,
        languages=[(name[:60], "") for name in split(row.get("languages"))],
        accepts_prepayment_card=(row.get("accepts_prepayment_card") or "").strip().lower()
        in ("yes", "y", "true", "1"),
        contact_phone=(row.get("phone") or "").strip()[:40],
        contact_email=(row.get("email") or "").strip(),
        website=(row.get("website") or "").strip(),
        cqc_location_id=(row.get("cqc_location_id") or "").strip()[:20],
    )


def parse_csv(text: str) -> tuple[list[ServiceData], list[RowProblem]]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in REQUIRED_CSV_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            f"The CSV header is missing {', '.join(missing)}. The header is: {', '.join(CSV_HEADER)}."
        )
    unknown = [column for column in header if column not in CSV_HEADER]
    if unknown:
        raise ImportFileError(f"The CSV has columns we do not know: {', '.join(unknown)}.")
    rows, problems = [], []
    # Row 1 is the header, so the first service is on row 2, as a spreadsheet numbers it.
    for number, row in enumerate(reader, start=2):
        row = {(key or "").strip(): value for key, value in row.items()}
        try:
            rows.append(_csv_service(number, row))
        except _Bad as error:
            problems.append(RowProblem(number, str(error)))
    return rows, problems


# Writing --------------------------------------------------------------------


def _organisation_for(data: OrganisationData, *, user) -> Organisation:
    organisation = None
    if data.oruk_id:
        organisation = Organisation.objects.filter(oruk_id=data.oruk_id).first()
    if organisation is None:
        organisation = Organisation.objects.filter(name__iexact=data.name).first()
    if organisation is not None:
        return organisation
    organisation = Organisation(
        name=data.name,
        sector=data.sector,
        description=data.description,
        charity_number=data.charity_number,
        company_number=data.company_number,
        email=data.email,
        website=data.website,
    )
    if data.oruk_id:
        organisation.oruk_id = data.oruk_id
    directory_record_submit(record=organisation, user=user)
    return organisation


def _apply(service: Service, data: ServiceData) -> None:
    for name in (
        "name",
        "description",
        "category",
        "status",
        "minimum_age",
        "maximum_age",
        "accepts_prepayment_card",
        "contact_phone",
        "contact_email",
        "website",
        "cqc_location_id",
    ):
        setattr(service, name, getattr(data, name))
    service.care_groups = [ServiceCareGroup(care_group=group) for group in data.care_groups]
    service.cost_options = [CostOption(**price) for price in data.prices]
    service.areas = [ServiceArea(postcode_district=district) for district in data.areas]
    service.locations = [
        ServiceLocation(**location, postcode_district=postcode_district(location["postcode"]))
        for location in data.locations
    ]
    seen, schedules = set(), []
    for schedule in data.schedules:
        key = (schedule["weekday"], schedule["opens_at"])
        if key not in seen:
            seen.add(key)
            schedules.append(RegularSchedule(**schedule))
    service.schedules = schedules
    service.languages = [ServiceLanguage(name=name, code=code) for name, code in data.languages]
    service.last_confirmed_at = timezone.now()


def directory_import(
    *, rows: list[ServiceData], problems: list[RowProblem], user=None, skip_bad: bool = False
) -> ImportReport:
    """Write checked rows as drafts for moderation.

    Guarantees: with any problem and ``skip_bad`` false, nothing is written;
    otherwise every good row is written in one transaction (all or none), each
    as a draft revision in the moderation workflow, never published.
    """
    report = ImportReport(problems=list(problems))
    if problems and not skip_bad:
        return report
    with transaction.atomic():
        for data in rows:
            organisation = _organisation_for(data.organisation, user=user)
            existing = (
                Service.objects.filter(oruk_id=data.oruk_id).first() if data.oruk_id else None
            )
            if existing is None:
                existing = Service.objects.filter(
                    organisation=organisation, name__iexact=data.name
                ).first()
            if existing is not None:
                service = (
                    existing.get_latest_revision_as_object()
                    if existing.latest_revision_id
                    else existing
                )
                report.updated += 1
            else:
                service = Service(organisation=organisation)
                if data.oruk_id:
                    service.oruk_id = data.oruk_id
                report.created += 1
            _apply(service, data)
            service.organisation = organisation
            directory_record_submit(record=service, user=user)
    report.imported = True
    return report


# CQC ratings ----------------------------------------------------------------

CQC_COLUMNS = ["Location ID", "Location Name", "Latest Rating", "Publication Date"]
_RATINGS = {rating.value.lower(): rating.value for rating in CqcRating}


@dataclass
class CqcReport:
    updated: int = 0
    unchanged: int = 0
    unmatched: list[RowProblem] = field(default_factory=list)
    invalid: list[RowProblem] = field(default_factory=list)


def _cqc_date(value: str) -> date:
    value = (value or "").strip()
    for pattern in ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d %B %Y", "%d %b %Y"):
        try:
            return datetime.strptime(value, pattern).date()
        except ValueError:
            continue
    raise _Bad(f"Publication Date “{value}” is not a date like 15/03/2024")


def cqc_ratings_import(*, text: str) -> CqcReport:
    """Set CQC ratings from the regulator's locations-and-ratings CSV, matched by CQC location id.

    Only the overall rating counts (rows whose "Domain" and "Service / Population
    Group" are "Overall", where the file has those columns). Guarantees: the
    ratings are regulator facts, so they change the live record straight away
    (and any draft waiting for approval); every row that matched no service or
    could not be read is reported by its row number.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in CQC_COLUMNS if column not in header]
    if missing:
        raise ImportFileError(
            f"This is not the CQC ratings file: it has no {', '.join(missing)} column."
        )
    report = CqcReport()
    latest: dict[str, tuple[int, str, date, str]] = {}
    for number, row in enumerate(reader, start=2):
        row = {(key or "").strip(): (value or "").strip() for key, value in row.items()}
        if row.get("Domain", "Overall") != "Overall":
            continue
        if row.get("Service / Population Group", "Overall") != "Overall":
            continue
        location_id = row["Location ID"]
        try:
            if not location_id:
                raise _Bad("Location ID is empty")
            rating = _RATINGS.get(row["Latest Rating"].lower())
            if rating is None:
                raise _Bad(f"Latest Rating “{row['Latest Rating']}” is not a CQC rating")
            published = _cqc_date(row["Publication Date"])
        except _Bad as error:
            report.invalid.append(RowProblem(number, str(error)))
            continue
        if location_id not in latest or latest[location_id][2] <= published:
            latest[location_id] = (number, rating, published, row["Location Name"])
    services: dict[str, list[Service]] = {}
    for service in Service.objects.filter(cqc_location_id__in=list(latest)):
        services.setdefault(service.cqc_location_id, []).append(service)
    with transaction.atomic():
        for location_id, (number, rating, published, name) in latest.items():
            matched = services.get(location_id)
            if not matched:
                report.unmatched.append(
                    RowProblem(number, f"no service has CQC location id {location_id} ({name})")
                )
                continue
            for service in matched:
                if service.cqc_rating == rating and service.cqc_rating_date == published:
                    report.unchanged += 1
                    continue
                values = {"cqc_rating": rating, "cqc_rating_date": published}
                service_live_update(service=service, values=values)
                report.updated += 1
    return report
