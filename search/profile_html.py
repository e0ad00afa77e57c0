"""The provider profile's body, read in one query and written in Python.

A first visit to a profile (nothing cached) used to read the organisation's services,
each of their seven related lists, its assessment, Innovation Fund projects and first
page of reviews in queries of their own, and render it all through the template engine.
``organisations_for_profiles`` reads organisations with their rating row, published
services and every related list, the assessment, projects and first reviews in one
query (the lists as JSON built by PostgreSQL), for one organisation or a batch of them.
``profile_body_html`` writes the body exactly as the templates did
(directory/includes/profile_body.html and the sections' includes before they were
replaced), every value escaped; tests compare the two.
"""

import html
import weakref
from datetime import date, datetime
from decimal import Decimal
from functools import cache as memoize

from django.db import connection
from django.db.models import Prefetch
from django.http import QueryDict
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.safestring import SafeString, mark_safe

from cms.formatting import format_pence
from cms.templatetags.govuk import query_link_maker

from .presenters import category_label
from .profile_cache import MAY_REVIEW_MARKER

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
    """Published organisations among ``organisation_ids``, loaded for their profiles
    (``profile_rows_load``): two queries however many on PostgreSQL."""
    from marketplace.providers.models import Organisation

    # No ORDER BY (the model's is by name): callers take the batch in any order.
    organisations = Organisation.objects.published().filter(pk__in=organisation_ids).order_by()
    if connection.vendor != "postgresql":
        organisations = organisations.select_related("rating")
    organisations = list(organisations)
    profile_rows_load(organisations)
    return organisations


def profile_rows_load(organisations: list) -> None:
    """Give each of ``organisations`` (published ones, as its caller read them)
    ``profile_services`` (rows for ``services_html``), its rating row (as
    ``select_related("rating")`` would) and, for the sections the installed apps give
    (``profile_sections``), ``profile_assessment``, ``profile_projects`` and
    ``profile_reviews`` (the first page): one query however many on PostgreSQL, written
    once per process (``_profile_rows_sql``), so a first visit compiles no queryset for it.
    """
    if not organisations:
        return
    if connection.vendor != "postgresql":
        # The embedded default (SQLite has no ordered json_agg): the same rows from the
        # ORM, one query per related list for the whole batch, and the sections' selectors.
        services = _services_by_organisation([organisation.pk for organisation in organisations])
        for organisation in organisations:
            organisation.profile_services = services.get(organisation.pk, [])
            _sections_from_orm(organisation)
        return
    from marketplace.providers.models import Organisation
    from marketplace.reviews.models import OrganisationRating

    sections = profile_sections()
    with connection.cursor() as cursor:
        # A json value (not jsonb) comes from psycopg already parsed.
        if len(organisations) == 1:
            _execute_prepared(cursor, sections, organisations[0].pk)
        else:
            cursor.execute(_profile_rows_sql(sections), [[o.pk for o in organisations]])
        rows = {row[0]: row for row in cursor.fetchall()}
    today = timezone.localdate()
    rating = Organisation.rating.related
    for organisation in organisations:
        # Deleted since the caller read it: an empty body, under a version that its
        # deletion has renewed.
        row = rows.get(organisation.pk)
        if row is None:
            row = (organisation.pk, [], *(_NO_ROWS[name] for name in sections), None)
        organisation.profile_services = [_service(service) for service in row[1]]
        for name, value in zip(sections, row[2 : 2 + len(sections)], strict=True):
            setattr(organisation, f"profile_{name}_row", value)
        _sections_from_rows(organisation, today)
        has_rating, *counts = row[2 + len(sections) :]
        rating.set_cached_value(
            organisation,
            OrganisationRating(
                organisation_id=organisation.pk, **dict(zip(_RATING_COLUMNS, counts, strict=True))
            )
            if has_rating is not None
            else None,
        )


_NO_ROWS = {"assessment": None, "projects": [], "reviews": []}


_RATING_COLUMNS = (
    "review_count",
    "rating_total",
    "dignity_total",
    "reliability_total",
    "choice_total",
    "value_total",
    "smoothed_rating",
)


# The database sessions (psycopg connections) in which _PREPARED exists, and its name.
_prepared_sessions: weakref.WeakSet = weakref.WeakSet()
_PREPARED = "scc_profile_rows"


def _execute_prepared(cursor, sections: tuple[str, ...], organisation_id: int) -> None:
    """One organisation's rows (a first visit) through a prepared statement, planned
    once per database session: PostgreSQL planning the query afresh took three times as
    long as running it (0.83 -> 0.22 ms a visit on the bench data). Prepared statements
    last as long as their session, whatever happens to transactions in it."""
    session = connection.connection
    if session not in _prepared_sessions:
        cursor.execute("SELECT 1 FROM pg_prepared_statements WHERE name = %s", [_PREPARED])
        if cursor.fetchone() is None:
            sql = _profile_rows_sql(sections).replace("= ANY(%s)", "= $1")
            cursor.execute(f"PREPARE {_PREPARED}(bigint) AS {sql}")
        _prepared_sessions.add(session)
    cursor.execute(f"EXECUTE {_PREPARED}(%s)", [organisation_id])


@memoize
def _profile_rows_sql(sections: tuple[str, ...]) -> str:
    """Each organisation's id, services, the ``sections``' rows and its rating row (its
    organisation id first: NULL when it has none), for ``= ANY(%s)`` ids."""
    from marketplace.reviews.selectors import REVIEWS_PER_PAGE

    sql = {
        "assessment": _ASSESSMENT_SQL,
        "projects": _PROJECTS_SQL,
        "reviews": _REVIEWS_SQL % int(REVIEWS_PER_PAGE),
    }
    columns = [f"({sql[name]})" for name in sections]
    rating = ", ".join(f"r.{column}" for column in ("organisation_id", *_RATING_COLUMNS))
    # Fixed SQL from this module's constants; the ids are the one parameter.
    return (
        f"SELECT providers_organisation.id, ({_SERVICES_SQL}), "  # noqa: S608
        + "".join(f"{column}, " for column in columns)
        + f"{rating}\n  FROM providers_organisation"
        "\n  LEFT JOIN reviews_organisationrating r"
        " ON r.organisation_id = providers_organisation.id"
        "\n WHERE providers_organisation.id = ANY(%s)"
    )


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


def _escape(text) -> str:
    """``django.utils.html.escape`` (the same characters) without its check for lazy
    arguments, which was a fifth of a body's CPU: the body is marked safe as a whole."""
    return html.escape(str(text))


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


@memoize
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
            f'  <h3 class="govuk-heading-m" id="service-{pk}-heading">{_escape(s["name"])}</h3>\n'
            f"  {closed}\n"
            f'  <p class="govuk-body">{linebreaksbr(s["description"], autoescape=True)}</p>\n'
            '  <dl class="govuk-summary-list">\n    '
        )
        who = "<br>".join(_escape(groups.get(g, g)) for g in s["care_groups"]) or "Anyone"
        if s["minimum_age"] or s["maximum_age"]:
            who += f"<br>Ages {s['minimum_age'] or 'any'} to {s['maximum_age'] or 'any'}"
        prices = (
            "<br>".join(
                f"{_escape(format_pence(amount))} {_escape(units.get(unit, unit))}"
                + (f" ({_escape(option)})" if option else "")
                + (f'<br><span class="govuk-body-s">{_escape(basis)}</span>' if basis else "")
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
            rating = _escape(cqc.get(s["cqc_rating"], s["cqc_rating"]))
            if s["cqc_rating_date"]:
                rating += (
                    f'<br><span class="govuk-body-s">Published {_date(s["cqc_rating_date"])}</span>'
                )
        elif s["cqc_location_id"]:
            rating = "Not yet rated"
        else:
            rating = "Not regulated by CQC"
        out = [
            _row("Type of support", _escape(category_label(s["category"]))),
            _row("Who it is for", who),
            _row("Prices", prices),
            _row("Ways to pay", pay),
            _row("Vacancies", free),
            _row("CQC rating", rating),
            _row("Areas served", ", ".join(_escape(a) for a in s["areas"]) or "Ask the provider"),
        ]
        # An {% if %} on lines of its own leaves an indented line before and after.
        where = ""
        if s["locations"]:
            where = (
                gap
                + _row(
                    "Where",
                    "<br>".join(
                        f"{_escape(name)}, {_escape(address)}, {_escape(city)} {_escape(postcode)}"
                        for name, address, city, postcode in s["locations"]
                    ),
                )
                + gap
            )
        out[-1] += gap + where
        times = "<br>".join(
            f"{_escape(weekdays.get(day, day))} {opens} to {closes}"
            for day, opens, closes in s["schedules"]
        )
        out.append(_row("Opening times", times or "Ask the provider"))
        out.append(_row("Languages", ", ".join(_escape(n) for n in s["languages"]) or "English"))
        access = ""
        if s["accessibility"]:
            access = (
                gap
                + _row(
                    "Accessibility",
                    "<br>".join(_escape(features.get(f, f)) for f in s["accessibility"]),
                )
                + gap
            )
        out[-1] += gap + access
        contact = ""
        if s["contact_phone"] or s["contact_email"]:
            value = f"{_escape(s['contact_name'])}<br>" if s["contact_name"] else ""
            if s["contact_phone"]:
                value += f"{_escape(s['contact_phone'])}<br>"
            if s["contact_email"]:
                email = _escape(s["contact_email"])
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
            f'\n<p class="govuk-body">{_escape(organisation_name)} has no services listed '
            "at the moment.</p>\n"
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


# --- The other sections: assessment, Innovation Fund projects, reviews ------------------
#
# Read inside the same query as the services (PostgreSQL) and written in Python as the
# templates wrote them (assessments/includes/profile_status.html,
# grants/includes/profile_projects.html, reviews/includes/profile_reviews.html and its
# review_item.html; tests compare the two): each include through the template engine cost
# more than the services' whole section.

# The organisation's latest agreed assessment, or else the latest started
# (commissioning.assessments.selectors.assessment_status_for_organisation's order).
_ASSESSMENT_SQL = """
SELECT json_build_array(a.id, a.status, a.agreed_at, a.submitted_at, a.started_at,
       a.overall_score::text, v.number, f.name)
  FROM assessments_assessment a
  JOIN assessments_frameworkversion v ON v.id = a.version_id
  JOIN assessments_framework f ON f.id = v.framework_id
 WHERE a.organisation_id = providers_organisation.id
 ORDER BY a.status = 'agreed' DESC, a.agreed_at DESC NULLS LAST, a.started_at DESC, a.id DESC
 LIMIT 1
"""

# Awards whose agreement the provider accepted, latest first
# (commissioning.grants.selectors.projects_for_organisation's rows and order).
_PROJECTS_SQL = """
SELECT coalesce(json_agg(json_build_array(ap.title, w.amount_pence, r.title, fu.name,
       ap.development_area, w.awarded_at, w.starts_on, w.ends_on)
       ORDER BY w.awarded_at DESC, w.id DESC), '[]')
  FROM grants_award w
  JOIN grants_application ap ON ap.id = w.application_id
  JOIN grants_round r ON r.id = ap.round_id
  JOIN grants_fund fu ON fu.id = r.fund_id
 WHERE ap.organisation_id = providers_organisation.id AND w.agreement_accepted_at IS NOT NULL
"""

# The first page of published reviews (marketplace.reviews.selectors.published_reviews'
# order), only the columns the section shows.
_REVIEWS_SQL = """
SELECT coalesce(json_agg(json_build_array(r.id, r.public_title, r.rating, r.service_id,
       sv.name, r.author_role, r.published_at, r.dignity, r.reliability, r.choice, r.value,
       r.public_body, r.reply, r.replied_at) ORDER BY r.published_at DESC, r.id DESC), '[]')
  FROM (SELECT id, public_title, rating, service_id, author_role, published_at, dignity,
               reliability, choice, value, public_body, reply, replied_at
          FROM reviews_review
         WHERE organisation_id = providers_organisation.id AND status = 'published'
         ORDER BY published_at DESC, id DESC
         LIMIT %s) r
  LEFT JOIN providers_service sv ON sv.id = r.service_id
"""


def profile_sections() -> tuple[str, ...]:
    """Which of the optional sections the installed apps give a profile, in page order."""
    from django.apps import apps

    return tuple(
        name
        for name, app in (
            ("assessment", "commissioning.assessments"),
            ("projects", "commissioning.grants"),
            ("reviews", "marketplace.reviews"),
        )
        if apps.is_installed(app)
    )


def _sections_from_rows(organisation, today: date) -> None:
    from commissioning.assessments.selectors import profile_assessment
    from commissioning.grants.selectors import profile_project

    sections = profile_sections()
    if "assessment" in sections:
        row = organisation.profile_assessment_row
        organisation.profile_assessment = row and profile_assessment(
            assessment_id=row[0],
            status=row[1],
            agreed_at=_datetime(row[2]),
            submitted_at=_datetime(row[3]),
            started_at=_datetime(row[4]),
            overall_score=None if row[5] is None else Decimal(row[5]),
            version_number=row[6],
            framework_name=row[7],
        )
    if "projects" in sections:
        organisation.profile_projects = [
            profile_project(
                title=title,
                amount_pence=amount_pence,
                round_title=round_title,
                fund_name=fund_name,
                development_area=area,
                awarded_at=_datetime(awarded_at),
                starts_on=date.fromisoformat(starts_on),
                ends_on=date.fromisoformat(ends_on),
                today=today,
            )
            for (
                title,
                amount_pence,
                round_title,
                fund_name,
                area,
                awarded_at,
                starts_on,
                ends_on,
            ) in organisation.profile_projects_row
        ]
    if "reviews" in sections:
        organisation.profile_reviews = [
            {
                "pk": row[0],
                "public_title": row[1],
                "rating": row[2],
                "service_id": row[3],
                "service_name": row[4],
                "author_role": row[5],
                "published_at": _datetime(row[6]),
                "dimensions": row[7:11],
                "public_body": row[11],
                "reply": row[12],
                "replied_at": _datetime(row[13]),
            }
            for row in organisation.profile_reviews_row
        ]


def _sections_from_orm(organisation) -> None:
    """The embedded default's rows for the sections: the selectors' own queries."""
    sections = profile_sections()
    if "assessment" in sections:
        from commissioning.assessments.selectors import assessment_status_for_organisation

        organisation.profile_assessment = assessment_status_for_organisation(
            organisation=organisation
        )
    if "projects" in sections:
        from commissioning.grants.selectors import projects_for_organisation

        organisation.profile_projects = projects_for_organisation(organisation=organisation)
    if "reviews" in sections:
        from marketplace.reviews.selectors import REVIEWS_PER_PAGE, published_reviews

        organisation.profile_reviews = [
            review_row(review)
            for review in published_reviews(organisation=organisation)[:REVIEWS_PER_PAGE]
        ]


def profile_body_html(
    organisation,
    *,
    markers,
    reviews: list[dict] | None = None,
    page_number: int = 1,
    num_pages: int | None = None,
    page_link=None,
) -> str:
    """The body for ``organisation`` (from ``organisations_for_profiles``): its header,
    services (``markers(service_id)``: each one's shortlist marker), assessment, projects
    and reviews, the first page unless ``reviews`` (one page of ``review_row``s),
    ``page_number``, ``num_pages`` and ``page_link(number)`` (a query string) say which.
    "Write a review" is left as a marker (``MAY_REVIEW_MARKER``)."""
    sections = profile_sections()
    parts = [
        header_html(organisation),
        '\n<h2 class="govuk-heading-l">Services</h2>\n',
        services_html(
            organisation.profile_services, organisation_name=organisation.name, markers=markers
        ),
        "\n\n",
    ]
    if "assessment" in sections:
        parts.append(
            assessment_html(organisation.profile_assessment, organisation_name=organisation.name)
        )
    if "projects" in sections:
        parts.append(projects_html(organisation.profile_projects))
    parts.append("\n")
    if "reviews" in sections:
        from marketplace.reviews.selectors import REVIEWS_PER_PAGE, rating_summary

        summary = rating_summary(organisation=organisation)
        if reviews is None:
            # The first page as reviews_for_profile's Paginator cuts it: its count is the
            # rating row's, so a page never lists more reviews than that count.
            reviews = organisation.profile_reviews[: summary.count]
            num_pages = max(1, -(-summary.count // REVIEWS_PER_PAGE))
        parts.append(
            reviews_html(
                organisation_name=organisation.name,
                summary=summary,
                reviews=reviews,
                page_number=page_number,
                num_pages=num_pages,
                page_link=page_link or query_link_maker(QueryDict(), "reviews_page"),
                report_url=_report_url,
                may_review_html=MAY_REVIEW_MARKER,
            )
        )
    parts.append("\n\n")
    return "".join(parts)


def _report_url(review_id: int) -> str:
    return reverse("reviews:report", args=[review_id])


def review_row(review) -> dict:
    """A published review as ``reviews_html`` takes it."""
    from marketplace.reviews.models import DIMENSIONS

    return {
        "pk": review.pk,
        "public_title": review.public_title,
        "rating": review.rating,
        "service_id": review.service_id,
        "service_name": review.service.name if review.service_id else None,
        "author_role": review.author_role,
        "published_at": review.published_at,
        "dimensions": [getattr(review, name) for name, _label in DIMENSIONS],
        "public_body": review.public_body,
        "reply": review.reply,
        "replied_at": review.replied_at,
    }


def _datetime(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _local_date(value: datetime | date | None) -> str:
    """The ``|date:"j F Y"`` filter: a datetime in the current time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return dateformat.format(value, "j F Y")


def header_html(organisation) -> str:
    """The organisation's heading and contact details (the body's first part)."""
    name = _escape(organisation.name)
    description = (
        f'<p class="govuk-body-l">{_escape(organisation.description)}</p>'
        if organisation.description
        else ""
    )
    contact = []
    if organisation.phone:
        contact.append(f"<li>Phone: {_escape(organisation.phone)}</li>")
    else:
        contact.append("")
    if organisation.email:
        email = _escape(organisation.email)
        contact.append(f'<li>Email: <a class="govuk-link" href="mailto:{email}">{email}</a></li>')
    else:
        contact.append("")
    if organisation.website:
        contact.append(
            f'<li><a class="govuk-link" href="{_escape(organisation.website)}" rel="noopener">'
            f'Website<span class="govuk-visually-hidden"> of {name}</span></a></li>'
        )
    else:
        contact.append("")
    contact.append(
        f"<li>Registered charity {_escape(organisation.charity_number)}</li>"
        if organisation.charity_number
        else ""
    )
    contact.append(
        f"<li>Company {_escape(organisation.company_number)}</li>"
        if organisation.company_number
        else ""
    )
    return (
        '\n<div class="govuk-grid-row">\n'
        '  <div class="govuk-grid-column-two-thirds">\n'
        f'    <span class="govuk-caption-l">{_escape(organisation.get_sector_display())}</span>\n'
        f'    <h1 class="govuk-heading-xl">{name}</h1>\n'
        f"    {description}\n"
        "  </div>\n"
        '  <div class="govuk-grid-column-one-third">\n'
        '    <h2 class="govuk-heading-s">Contact</h2>\n'
        '    <ul class="govuk-list">\n'
        + "".join(f"      {item}\n" for item in contact)
        + "    </ul>\n"
        "  </div>\n"
        "</div>\n"
    )


def assessment_html(assessment: dict | None, *, organisation_name: str) -> str:
    """The Personalisation Impact Assessment section (``assessment_status_for_organisation``'s
    answer)."""
    parts = ['\n<h2 class="govuk-heading-m">Personalisation Impact Assessment</h2>\n']
    if not assessment:
        parts.append(
            f'\n<p class="govuk-body">{_escape(organisation_name)} has not completed a '
            "Personalisation Impact Assessment yet.</p>\n\n"
        )
        return "".join(parts)
    agreed = assessment["status"] == "agreed"
    score = ""
    if assessment["overall_score"] is not None:
        score = (
            '\n  <div class="govuk-summary-list__row">\n'
            '    <dt class="govuk-summary-list__key">Overall score</dt>\n'
            '    <dd class="govuk-summary-list__value">'
            f"{_escape(assessment['overall_score'])} out of 4</dd>\n"
            "  </div>\n  "
        )
    parts.append(
        '\n<dl class="govuk-summary-list">\n'
        '  <div class="govuk-summary-list__row">\n'
        '    <dt class="govuk-summary-list__key">Status</dt>\n'
        '    <dd class="govuk-summary-list__value"><strong class="govuk-tag'
        f'{" govuk-tag--green" if agreed else " govuk-tag--grey"}">'
        f"{_escape(assessment['status_label'])}</strong></dd>\n"
        "  </div>\n"
        '  <div class="govuk-summary-list__row">\n'
        '    <dt class="govuk-summary-list__key">'
        f"{'Agreed by the council' if agreed else 'Last updated'}</dt>\n"
        f'    <dd class="govuk-summary-list__value">{_local_date(assessment["date"])}</dd>\n'
        "  </div>\n"
        f"  {score}\n"
        '  <div class="govuk-summary-list__row">\n'
        '    <dt class="govuk-summary-list__key">Framework</dt>\n'
        '    <dd class="govuk-summary-list__value">'
        f"{_escape(assessment['framework_version'])}</dd>\n"
        "  </div>\n"
        "</dl>\n"
        '<p class="govuk-body-s">Providers rate themselves against statements written from '
        "the point of view of people who use care, such as “I can choose who supports me”. "
        "The council checks each assessment. 1 means “not yet”, 4 means “embedded”.</p>\n\n"
    )
    return "".join(parts)


def projects_html(projects: list[dict]) -> str:
    """The Innovation Fund projects section (``projects_for_organisation``'s rows)."""
    if not projects:
        return "\n\n"
    items = "".join(
        '\n  <li class="govuk-!-margin-bottom-4">\n'
        '    <h3 class="govuk-heading-s govuk-!-margin-bottom-1">'
        f"{_escape(project['title'])}</h3>\n"
        '    <p class="govuk-body govuk-!-margin-bottom-1">'
        f"{_escape(format_pence(int(project['amount_pence'])))} from the "
        f"{_escape(project['fund'])} ({_escape(project['round'])}) for "
        f"{_escape(project['development_area'].lower())}.</p>\n"
        '    <p class="govuk-body-s govuk-!-margin-bottom-0"><strong class="govuk-tag '
        f'govuk-tag--grey">{_escape(project["status"])}</strong> Awarded '
        f"{_local_date(project['awarded_on'])}</p>\n"
        "  </li>\n  "
        for project in projects
    )
    return (
        '\n\n<h2 class="govuk-heading-m">Innovation Fund projects</h2>\n'
        f'<ul class="govuk-list">\n  {items}\n</ul>\n\n'
    )


_REVIEW_INTRO = (
    "Balanced score: {} out of 5. Search results sorted by rating use this score. It "
    "weighs each provider's reviews together with the average for the whole borough, so a "
    "provider with only one or two reviews is not placed above providers with many good ones."
)


def reviews_html(
    *,
    organisation_name: str,
    summary,
    reviews: list[dict],
    page_number: int,
    num_pages: int,
    page_link,
    report_url,
    may_review_html: str,
) -> str:
    """The reviews section: ``summary`` (a RatingSummary), one page of ``review_row``s,
    links to the other pages (``page_link(number)``: a query string), each review's report
    link (``report_url(review_id)``) and the "Write a review" part."""
    from django.template.defaultfilters import floatformat

    from cms.templatetags.govuk import stars

    parts = [
        '\n<section class="app-reviews" aria-labelledby="reviews-heading">\n'
        '  <h2 class="govuk-heading-m" id="reviews-heading">Reviews</h2>\n  '
    ]
    add = parts.append
    if summary.count:
        dimensions = "".join(
            '\n    <div class="govuk-summary-list__row">\n'
            f'      <dt class="govuk-summary-list__key">{_escape(label)}</dt>\n'
            f'      <dd class="govuk-summary-list__value">{_escape(stars(mean))}</dd>\n'
            "    </div>\n    "
            for label, mean in summary.dimensions
        )
        add(
            '\n  <p class="app-star-rating">\n'
            f'    <span class="app-star-rating__stars" aria-hidden="true">{summary.stars}</span>\n'
            f'    <span class="app-star-rating__text">{_escape(stars(summary.mean))} from '
            f"{summary.count} review{'' if summary.count == 1 else 's'}</span>\n"
            "  </p>\n"
            f'  <p class="govuk-body-s">'
            f"{_REVIEW_INTRO.format(_escape(floatformat(summary.smoothed, 1)))}</p>\n"
            '  <dl class="govuk-summary-list govuk-summary-list--no-border">\n'
            f"    {dimensions}\n"
            "  </dl>\n  "
        )
    else:
        add(
            f'\n  <p class="govuk-body">{_escape(organisation_name)} has no published '
            "reviews yet.</p>\n  "
        )
    add(f"\n\n  {may_review_html}\n\n  ")
    for review in reviews:
        add(_review_item_html(review, organisation_name=organisation_name, report_url=report_url))
    add("\n\n  ")
    if num_pages > 1:
        add(
            '\n  <nav class="govuk-pagination" aria-label="Reviews pages">\n    '
            + (
                '<div class="govuk-pagination__prev"><a class="govuk-link '
                f'govuk-pagination__link" href="{_escape(page_link(page_number - 1))}'
                '#reviews-heading" rel="prev"><span class="govuk-pagination__link-title">Newer'
                '<span class="govuk-visually-hidden"> reviews</span></span></a></div>'
                if page_number > 1
                else ""
            )
            + f'\n    <p class="govuk-body-s govuk-!-margin-bottom-0">Page {page_number} of '
            f"{num_pages}</p>\n    "
            + (
                '<div class="govuk-pagination__next"><a class="govuk-link '
                f'govuk-pagination__link" href="{_escape(page_link(page_number + 1))}'
                '#reviews-heading" rel="next"><span class="govuk-pagination__link-title">Older'
                '<span class="govuk-visually-hidden"> reviews</span></span></a></div>'
                if page_number < num_pages
                else ""
            )
            + "\n  </nav>\n  "
        )
    add("\n</section>\n\n")
    return "".join(parts)


def _review_item_html(review: dict, *, organisation_name: str, report_url) -> str:
    from django.template.defaultfilters import linebreaks_filter

    from marketplace.reviews.models import DIMENSIONS
    from marketplace.reviews.templatetags.reviews_tags import star_text

    pk = review["pk"]
    title = _escape(review["public_title"])
    rating = review["rating"]
    about = (
        '<p class="govuk-body-s govuk-!-margin-bottom-1">About: '
        f"{_escape(review['service_name'])}</p>"
        if review["service_id"]
        else ""
    )
    who = (
        "Written by someone acting for the person who uses the service"
        if review["author_role"] == "proxy"
        else "Written by the person who uses the service"
    )
    if review["published_at"]:
        who += f", published {_local_date(review['published_at'])}"
    dimensions = "".join(
        f"<li>{_escape(label)}: {_escape(value)} out of 5</li>"
        for (_name, label), value in zip(DIMENSIONS, review["dimensions"], strict=True)
    )
    reply = ""
    if review["reply"]:
        reply = (
            '\n  <div class="govuk-inset-text">\n'
            '    <h4 class="govuk-heading-s govuk-!-margin-bottom-1">Reply from '
            f"{_escape(organisation_name)}</h4>\n"
            '    <p class="govuk-body-s govuk-!-margin-bottom-1">'
            f"{_local_date(review['replied_at'])}</p>\n"
            f"    {linebreaks_filter(review['reply'], autoescape=True)}\n"
            "  </div>\n  "
        )
    return (
        "\n"
        '<article class="app-review govuk-!-margin-bottom-6" '
        f'aria-labelledby="review-{pk}-title">\n'
        '  <h3 class="govuk-heading-s govuk-!-margin-bottom-1" '
        f'id="review-{pk}-title">{title}</h3>\n'
        '  <p class="app-star-rating govuk-!-margin-bottom-1">\n'
        f'    <span class="app-star-rating__stars" aria-hidden="true">{star_text(rating)}</span>\n'
        f'    <span class="app-star-rating__text">{_escape(rating)} out of 5 stars</span>\n'
        "  </p>\n"
        f"  {about}\n"
        f'  <p class="govuk-body-s govuk-!-margin-bottom-2">{who}</p>\n'
        '  <ul class="govuk-list govuk-body-s govuk-!-margin-bottom-2">\n'
        f"    {dimensions}\n"
        "  </ul>\n"
        f'  <div class="govuk-body">{linebreaks_filter(review["public_body"], autoescape=True)}'
        "</div>\n"
        f"  {reply}\n"
        '  <p class="govuk-body-s app-print-hide"><a class="govuk-link" '
        f'href="{_escape(report_url(pk))}">Report this review<span class="govuk-visually-hidden">'
        f": {title}</span></a></p>\n"
        "</article>\n"
    )
