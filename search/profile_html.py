"""The provider profile's services, read in one query and written in Python.

A first visit to a profile (nothing cached) used to read the organisation's services
and then each of their seven related lists in a query of its own, and render every
service through the template engine. ``organisations_for_profiles`` reads organisations
with their rating row, published services and every related list in one query (the
lists as JSON built by PostgreSQL), for one organisation or a batch of them.
``services_html`` writes the services section exactly as the template did
(directory/includes/profile_body.html before it took ``services_html``), every value
escaped; tests compare the two.
"""

from datetime import date, datetime

from django.db import connection
from django.db.models import Field, Prefetch
from django.db.models.expressions import RawSQL
from django.template.defaultfilters import linebreaksbr
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from cms.formatting import format_pence

from .presenters import category_label

# Published services of the organisation (ServiceQuerySet.published: the organisation
# itself is checked by the caller's published() filter), in the profile's order (name,
# then id for equal names), each with the seven lists in their models' orders (id where a
# model has none, as the rows were written).
_SERVICES_SQL = """
SELECT coalesce(json_agg(json_build_array(
    s.id, s.name, s.description, s.category, s.status, s.minimum_age, s.maximum_age,
    s.accepts_prepayment_card, s.accepts_marketplace_payment, s.accepts_invoice,
    s.vacancies, s.vacancies_confirmed_on, s.cqc_rating, s.cqc_rating_date,
    s.cqc_location_id, s.contact_name, s.contact_phone, s.contact_email,
    s.last_confirmed_at,
    (SELECT coalesce(json_agg(x.care_group ORDER BY x.id), '[]')
       FROM providers_servicecaregroup x WHERE x.service_id = s.id),
    (SELECT coalesce(json_agg(json_build_array(x.amount_pence, x.unit, x.option,
            x.charging_basis) ORDER BY x.amount_pence, x.id), '[]')
       FROM providers_costoption x WHERE x.service_id = s.id),
    (SELECT coalesce(json_agg(x.postcode_district ORDER BY x.postcode_district, x.id), '[]')
       FROM providers_servicearea x WHERE x.service_id = s.id),
    (SELECT coalesce(json_agg(json_build_array(x.name, x.address_1, x.city, x.postcode)
            ORDER BY x.name, x.id), '[]')
       FROM providers_servicelocation x WHERE x.service_id = s.id),
    (SELECT coalesce(json_agg(json_build_array(x.weekday, to_char(x.opens_at, 'HH24:MI'),
            to_char(x.closes_at, 'HH24:MI')) ORDER BY x.weekday, x.opens_at, x.id), '[]')
       FROM providers_regularschedule x WHERE x.service_id = s.id),
    (SELECT coalesce(json_agg(x.name ORDER BY x.name, x.id), '[]')
       FROM providers_servicelanguage x WHERE x.service_id = s.id),
    (SELECT coalesce(json_agg(x.feature ORDER BY x.id), '[]')
       FROM providers_serviceaccessibility x WHERE x.service_id = s.id)
  ) ORDER BY s.name, s.id), '[]')
  FROM providers_service s
 WHERE s.organisation_id = providers_organisation.id AND s.live
   AND s.status IN ('active', 'temporarily closed')
"""


def organisations_for_profiles(*, organisation_ids: list[int]) -> list:
    """Published organisations among ``organisation_ids`` with ``rating`` loaded and
    ``profile_services`` (rows for ``services_html``): one query however many."""
    from marketplace.providers.models import Organisation, ServiceStatus

    assert {ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED} == {
        "active",
        "temporarily closed",
    }
    organisations = Organisation.objects.published().filter(pk__in=organisation_ids)
    organisations = organisations.select_related("rating")
    if connection.vendor != "postgresql":
        # The embedded default (SQLite has no ordered json_agg): the same rows from the
        # ORM, one query per related list for the whole batch.
        organisations = list(organisations)
        services = _services_by_organisation([organisation.pk for organisation in organisations])
        for organisation in organisations:
            organisation.profile_services = services.get(organisation.pk, [])
        return organisations
    # A json value (not jsonb) comes from psycopg already parsed.
    organisations = list(
        organisations.annotate(
            # Fixed SQL, no parameters.
            profile_services=RawSQL(_SERVICES_SQL, (), output_field=Field())  # noqa: S611
        )
    )
    for organisation in organisations:
        organisation.profile_services = [_service(row) for row in organisation.profile_services]
    return organisations


def _services_by_organisation(organisation_ids: list[int]) -> dict[int, list[dict]]:
    """What _SERVICES_SQL gives, through the ORM: each organisation's published services
    as ``_service`` rows, in the same orders."""
    from marketplace.providers import models

    services = (
        models.Service.objects.published()
        .filter(organisation_id__in=organisation_ids)
        .order_by("name", "id")
        .prefetch_related(
            Prefetch("care_groups", models.ServiceCareGroup.objects.order_by("id")),
            Prefetch("cost_options", models.CostOption.objects.order_by("amount_pence", "id")),
            Prefetch("areas", models.ServiceArea.objects.order_by("postcode_district", "id")),
            Prefetch("locations", models.ServiceLocation.objects.order_by("name", "id")),
            Prefetch(
                "schedules", models.RegularSchedule.objects.order_by("weekday", "opens_at", "id")
            ),
            Prefetch("languages", models.ServiceLanguage.objects.order_by("name", "id")),
            Prefetch("accessibility", models.ServiceAccessibility.objects.order_by("id")),
        )
    )
    found: dict[int, list[dict]] = {}
    for service in services:
        row = {key: getattr(service, key) for key in _ROW_KEYS[:_LISTS_START]}
        row["care_groups"] = [x.care_group for x in service.care_groups.all()]
        row["cost_options"] = [
            [x.amount_pence, x.unit, x.option, x.charging_basis] for x in service.cost_options.all()
        ]
        row["areas"] = [x.postcode_district for x in service.areas.all()]
        row["locations"] = [
            [x.name, x.address_1, x.city, x.postcode] for x in service.locations.all()
        ]
        row["schedules"] = [
            [x.weekday, _hh_mm(x.opens_at), _hh_mm(x.closes_at)] for x in service.schedules.all()
        ]
        row["languages"] = [x.name for x in service.languages.all()]
        row["accessibility"] = [x.feature for x in service.accessibility.all()]
        found.setdefault(service.organisation_id, []).append(row)
    return found


def _hh_mm(value) -> str | None:
    return None if value is None else value.strftime("%H:%M")


def _service(row: list) -> dict:
    keys = _ROW_KEYS
    service = dict(zip(keys, row, strict=True))
    for name in ("vacancies_confirmed_on", "cqc_rating_date"):
        if service[name] is not None:
            service[name] = date.fromisoformat(service[name])
    if service["last_confirmed_at"] is not None:
        service["last_confirmed_at"] = datetime.fromisoformat(service["last_confirmed_at"])
    return service


_ROW_KEYS = (
    "pk",
    "name",
    "description",
    "category",
    "status",
    "minimum_age",
    "maximum_age",
    "accepts_prepayment_card",
    "accepts_marketplace_payment",
    "accepts_invoice",
    "vacancies",
    "vacancies_confirmed_on",
    "cqc_rating",
    "cqc_rating_date",
    "cqc_location_id",
    "contact_name",
    "contact_phone",
    "contact_email",
    "last_confirmed_at",
    # The seven related lists follow.
    "care_groups",
    "cost_options",
    "areas",
    "locations",
    "schedules",
    "languages",
    "accessibility",
)
_LISTS_START = _ROW_KEYS.index("care_groups")


def stale_at(services: list[dict]) -> datetime | None:
    """The first moment after now at which one of ``services`` becomes "May be out of
    date" (Service.is_stale), or None if none will by time alone."""
    from marketplace.providers.models import STALE_AFTER

    now = timezone.now()
    moments = [
        service["last_confirmed_at"] + STALE_AFTER
        for service in services
        if service["last_confirmed_at"] is not None
        and service["last_confirmed_at"] + STALE_AFTER > now
    ]
    return min(moments, default=None)


def _labels():
    from marketplace.providers.models import (
        AccessibilityFeature,
        CostUnit,
        CqcRating,
        ServedGroup,
        Weekday,
    )

    return (
        dict(ServedGroup.choices),
        dict(CostUnit.choices),
        dict(Weekday.choices),
        dict(AccessibilityFeature.choices),
        dict(CqcRating.choices),
    )


def _date(value: date | None) -> str:
    return dateformat.format(value, "j F Y") if value else ""


def _row(key: str, value: str) -> str:
    return (
        '<div class="govuk-summary-list__row">\n'
        f'      <dt class="govuk-summary-list__key">{key}</dt>\n'
        f'      <dd class="govuk-summary-list__value">{value}</dd>\n'
        "    </div>"
    )


def services_html(services: list[dict], *, organisation_name: str, markers) -> SafeString:
    """The profile's services section, as the template's loop wrote it (its whitespace
    included); ``markers(service_id)`` gives each service's shortlist marker."""
    from marketplace.providers.models import STALE_AFTER

    groups, units, weekdays, features, cqc = _labels()
    stale_before = timezone.now() - STALE_AFTER
    gap = "\n    "
    parts = []
    add = parts.append
    for s in services:
        pk = s["pk"]
        closed = (
            '<p class="govuk-body"><strong class="govuk-tag govuk-tag--yellow">'
            "Temporarily closed</strong></p>"
            if s["status"] == "temporarily closed"
            else ""
        )
        add(
            f'\n<section class="govuk-!-margin-bottom-8" id="service-{pk}" '
            f'aria-labelledby="service-{pk}-heading">\n'
            f'  <h3 class="govuk-heading-m" id="service-{pk}-heading">{escape(s["name"])}</h3>\n'
            f"  {closed}\n"
            f'  <p class="govuk-body">{linebreaksbr(s["description"], autoescape=True)}</p>\n'
            '  <dl class="govuk-summary-list">\n    '
        )
        who = "<br>".join(escape(groups.get(g, g)) for g in s["care_groups"]) or "Anyone"
        if s["minimum_age"] or s["maximum_age"]:
            who += f"<br>Ages {s['minimum_age'] or 'any'} to {s['maximum_age'] or 'any'}"
        prices = (
            "<br>".join(
                f"{escape(format_pence(amount))} {escape(units.get(unit, unit))}"
                + (f" ({escape(option)})" if option else "")
                + (f'<br><span class="govuk-body-s">{escape(basis)}</span>' if basis else "")
                for amount, unit, option, basis in s["cost_options"]
            )
            or "Ask the provider"
        )
        pay = ""
        if s["accepts_prepayment_card"]:
            pay += (
                '<strong class="govuk-tag govuk-tag--green">Takes the prepayment card</strong><br>'
            )
        if s["accepts_marketplace_payment"]:
            pay += "Payment through this site<br>"
        if s["accepts_invoice"]:
            pay += "Invoice"
        vacancies = s["vacancies"]
        if vacancies is None:
            free = "Ask the provider"
        elif vacancies:
            free = f"{vacancies} place{'' if vacancies == 1 else 's'} free"
        else:
            free = "No vacancies at the moment"
        if s["vacancies_confirmed_on"]:
            free += (
                '<br><span class="govuk-body-s">'
                f"Confirmed {_date(s['vacancies_confirmed_on'])}</span>"
            )
        if s["cqc_rating"]:
            rating = escape(cqc.get(s["cqc_rating"], s["cqc_rating"]))
            if s["cqc_rating_date"]:
                rating += (
                    f'<br><span class="govuk-body-s">Published {_date(s["cqc_rating_date"])}</span>'
                )
        elif s["cqc_location_id"]:
            rating = "Not yet rated"
        else:
            rating = "Not regulated by CQC"
        out = [
            _row("Type of support", escape(category_label(s["category"]))),
            _row("Who it is for", who),
            _row("Prices", prices),
            _row("Ways to pay", pay),
            _row("Vacancies", free),
            _row("CQC rating", rating),
            _row("Areas served", ", ".join(escape(a) for a in s["areas"]) or "Ask the provider"),
        ]
        # An {% if %} on lines of its own leaves an indented line before and after.
        where = ""
        if s["locations"]:
            where = (
                gap
                + _row(
                    "Where",
                    "<br>".join(
                        f"{escape(name)}, {escape(address)}, {escape(city)} {escape(postcode)}"
                        for name, address, city, postcode in s["locations"]
                    ),
                )
                + gap
            )
        out[-1] += gap + where
        times = "<br>".join(
            f"{escape(weekdays.get(day, day))} {opens} to {closes}"
            for day, opens, closes in s["schedules"]
        )
        out.append(_row("Opening times", times or "Ask the provider"))
        out.append(_row("Languages", ", ".join(escape(n) for n in s["languages"]) or "English"))
        access = ""
        if s["accessibility"]:
            access = (
                gap
                + _row(
                    "Accessibility",
                    "<br>".join(escape(features.get(f, f)) for f in s["accessibility"]),
                )
                + gap
            )
        out[-1] += gap + access
        contact = ""
        if s["contact_phone"] or s["contact_email"]:
            value = f"{escape(s['contact_name'])}<br>" if s["contact_name"] else ""
            if s["contact_phone"]:
                value += f"{escape(s['contact_phone'])}<br>"
            if s["contact_email"]:
                email = escape(s["contact_email"])
                value += f'<a class="govuk-link" href="mailto:{email}">{email}</a>'
            contact = gap + _row("Contact", value) + gap
        out[-1] += gap + contact
        confirmed = s["last_confirmed_at"]
        checked = _date(timezone.localdate(confirmed)) if confirmed else ""
        if confirmed and confirmed < stale_before:
            checked += ' <strong class="govuk-tag govuk-tag--yellow">May be out of date</strong>'
        out.append(_row("Last checked", checked))
        add(gap.join(out))
        add(f"\n  </dl>\n  {markers(pk)}\n</section>\n")
    if not services:
        add(
            f'\n<p class="govuk-body">{escape(organisation_name)} has no services listed '
            "at the moment.</p>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped
