"""The provider profile's whole body written in Python (search.profile_html) is what the
templates wrote: the header, the assessment, Innovation Fund projects and reviews
sections (their includes, kept as the reference), for the cached first page and for other
review pages; and a first visit reads it all in one query on PostgreSQL."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from django.db import connection
from django.http import HttpRequest, QueryDict
from django.template import engines
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commissioning.assessments.models import AssessmentStatus
from commissioning.grants.models import Award
from commissioning.grants.selectors import projects_for_organisation
from marketplace.providers.models import Organisation
from marketplace.reviews.models import AuthorRole, OrganisationRating, ReviewStatus
from marketplace.reviews.selectors import rating_summary, reviews_for_profile
from marketplace.reviews.services import organisation_rating_refresh
from search import profile_cache, profile_html
from search.profile_html import _sections_from_orm, organisations_for_profiles, services_html
from tests.commissioning.assessments.factories import AssessmentFactory, FrameworkVersionFactory
from tests.commissioning.grants.factories import ApplicationFactory
from tests.marketplace.reviews.factories import PurchaseFactory, ReviewFactory
from tests.search.factories import make_organisation, make_service

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).with_name("profile_body_reference.html")


def reference_body(organisation, request: HttpRequest | None = None) -> str:
    """The body as directory/includes/profile_body.html and its includes rendered it."""
    (loaded,) = organisations_for_profiles(organisation_ids=[organisation.pk])
    context = {
        "organisation": loaded,
        "services_html": services_html(
            loaded.profile_services,
            organisation_name=loaded.name,
            markers=profile_cache.shortlist_marker,
        ),
        "review_includes": ["reviews/includes/profile_reviews.html"],
        "assessment_includes": [
            "assessments/includes/profile_status.html",
            "grants/includes/profile_projects.html",
        ],
        "profile_projects": projects_for_organisation(organisation=loaded),
        "reviews": reviews_for_profile(
            organisation=loaded,
            page=(request.GET.get("reviews_page") if request else None) or 1,
            defer_may_review=True,
        ),
        "request": request or HttpRequest(),
    }
    return engines["django"].from_string(REFERENCE.read_text()).render(context)


def python_body(organisation, request: HttpRequest | None = None) -> str:
    (loaded,) = organisations_for_profiles(organisation_ids=[organisation.pk])
    return profile_cache.profile_body_render(organisation=loaded, request=request)["html"]


def get_request(query: str) -> HttpRequest:
    request = HttpRequest()
    request.GET = QueryDict(query)
    return request


def add_award(organisation, *, title, starts_on, ends_on, accepted=True, days_ago=10):
    application = ApplicationFactory(
        organisation=organisation, title=title, development_area="technology"
    )
    return Award.objects.create(
        application=application,
        amount_pence=12_345_67,
        agreement_text="Terms",
        awarded_at=timezone.now() - timedelta(days=days_ago),
        starts_on=starts_on,
        ends_on=ends_on,
        agreement_accepted_at=timezone.now() if accepted else None,
    )


def add_reviews(organisation, count: int) -> None:
    service = make_service("Reviewed <service>", organisation=organisation)
    now = timezone.now()
    for n in range(count):
        ReviewFactory(
            purchase=PurchaseFactory(organisation=organisation),
            status=ReviewStatus.PUBLISHED,
            published_at=now - timedelta(days=n, hours=n),
            rating=1 + n % 5,
            dignity=1 + (n + 1) % 5,
            reliability=1 + (n + 2) % 5,
            choice=5,
            value=1,
            public_title=f"Review {n} <b>&</b> O'Neil",
            public_body="First line\nsecond <line>\n\nNew paragraph & more",
            author_role=AuthorRole.PROXY if n % 3 == 0 else AuthorRole.BUDGET_HOLDER,
            service=service if n % 2 else None,
            reply="Thank you\n\nWe <will> call" if n % 4 == 1 else "",
            replied_at=now - timedelta(days=n) if n % 4 == 1 else None,
        )
    ReviewFactory(purchase=PurchaseFactory(organisation=organisation))  # not published
    organisation_rating_refresh(organisation=organisation)


@pytest.fixture
def full_provider():
    organisation = make_organisation(
        "Smith & Jones <Care>",
        slug="smith-jones",
        description="Care & support <at home>",
        phone="020 <8359>",
        email="care+1@example.org",
        website="https://example.org/?a=1&b=<2>",
        charity_number="12'34",
        company_number="0&9",
    )
    make_service("Home help", organisation=organisation)
    version = FrameworkVersionFactory(framework__name="PIA <Barnet>")
    now = timezone.now()
    AssessmentFactory(organisation=organisation, version=version, started_at=now)
    AssessmentFactory(
        organisation=organisation,
        version=version,
        status=AssessmentStatus.AGREED,
        started_at=now - timedelta(days=90),
        submitted_at=now - timedelta(days=80),
        agreed_at=now - timedelta(days=70),
        overall_score=Decimal("2.50"),
    )
    today = timezone.localdate()
    add_award(
        organisation,
        title="Soon <pilot>",
        starts_on=today + timedelta(days=5),
        ends_on=today + timedelta(days=300),
        days_ago=1,
    )
    add_award(
        organisation,
        title="Running & well",
        starts_on=today - timedelta(days=5),
        ends_on=today + timedelta(days=300),
        days_ago=20,
    )
    add_award(
        organisation,
        title="Done",
        starts_on=today - timedelta(days=400),
        ends_on=today - timedelta(days=1),
        days_ago=500,
    )
    add_award(
        organisation,
        title="Not accepted",
        starts_on=today,
        ends_on=today + timedelta(days=3),
        accepted=False,
    )
    add_reviews(organisation, 23)
    return organisation


def test_the_python_body_is_the_templates_to_the_byte(full_provider):
    html = python_body(full_provider)

    assert html == reference_body(full_provider)
    assert "Smith &amp; Jones &lt;Care&gt;" in html and "2.50 out of 4" in html
    assert html.count('<li class="govuk-!-margin-bottom-4">') == 3 and "Not accepted" not in html
    assert html.count('<article class="app-review') == 10 and "Page 1 of 3" in html
    assert profile_cache.MAY_REVIEW_MARKER in html


@pytest.mark.parametrize(
    "query", ["reviews_page=2", "x=a+b&reviews_page=3&y=%3C", "reviews_page=z"]
)
def test_other_review_pages_are_the_templates_to_the_byte(full_provider, query):
    request = get_request(query)
    html = python_body(full_provider, request)

    assert html == reference_body(full_provider, request)
    assert ("Newer" in html) == (query != "reviews_page=z")


def test_a_provider_with_nothing_but_its_name_is_the_templates_to_the_byte():
    organisation = make_organisation("Bare <Org>", slug="bare")
    version = FrameworkVersionFactory()
    AssessmentFactory(organisation=make_organisation("Someone else", slug="else"), version=version)
    html = python_body(organisation)

    assert html == reference_body(organisation)
    assert "Bare &lt;Org&gt; has not completed a Personalisation Impact Assessment" in html
    assert "Innovation Fund" not in html and "has no published reviews yet" in html


def test_an_assessment_under_way_shows_its_last_update_without_a_score():
    organisation = make_organisation("Started", slug="started")
    now = timezone.now()
    AssessmentFactory(
        organisation=organisation,
        status=AssessmentStatus.SUBMITTED,
        started_at=now - timedelta(days=9),
        submitted_at=now - timedelta(days=2),
        overall_score=Decimal("3.00"),
    )
    add_reviews(organisation, 1)
    html = python_body(organisation)

    assert html == reference_body(organisation)
    assert "Last updated" in html and "out of 4" not in html and "from 1 review<" in html


def body_queries(captured) -> list[str]:
    """The SQL a profile visit ran, less the page chrome's site settings (read and
    created once per process) and the profile statement's preparation (once per database
    session)."""
    skipped = ("cms_", "wagtailcore_site", "SAVEPOINT", "pg_prepared_statements", "PREPARE ")
    return [query["sql"] for query in captured if not any(text in query["sql"] for text in skipped)]


@pytest.mark.postgresql
def test_a_first_visit_reads_the_organisation_then_the_whole_body_in_one_query(full_provider):
    assert connection.vendor == "postgresql"
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/providers/smith-jones/")
    assert response.status_code == 200
    sql = body_queries(queries.captured_queries)
    assert len(sql) == 2, sql
    assert sql[1].startswith("EXECUTE scc_profile_rows(")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name = 'scc_profile_rows'"
        )
        (statement,) = cursor.fetchone()
    assert all(
        table in statement
        for table in (
            "providers_service",
            "assessments_assessment",
            "grants_award",
            "reviews_review",
        )
    )


@pytest.mark.postgresql
def test_a_batch_reads_the_rows_a_single_visit_reads_through_the_prepared_statement(
    full_provider,
):
    other = make_organisation("Other <one>", slug="other-one")
    add_reviews(other, 2)
    batch = {
        o.pk: o for o in organisations_for_profiles(organisation_ids=[full_provider.pk, other.pk])
    }
    # The statement is prepared once per session; a session that has it already (found,
    # not prepared again) runs it the same.
    profile_html._prepared_sessions.clear()
    for organisation in (full_provider, other):
        (single,) = organisations_for_profiles(organisation_ids=[organisation.pk])
        expected = batch[organisation.pk]
        for name in (
            "profile_services",
            "profile_assessment",
            "profile_projects",
            "profile_reviews",
        ):
            assert getattr(single, name) == getattr(expected, name)
        assert rating_summary(organisation=single) == rating_summary(organisation=expected)


def test_the_first_page_lists_no_more_reviews_than_the_rating_row_counts(full_provider):
    # As reviews_for_profile's Paginator, whose count is the rating row's.
    OrganisationRating.objects.filter(organisation=full_provider).update(review_count=4)
    html = python_body(full_provider)

    assert html == reference_body(full_provider)
    assert html.count('<article class="app-review') == 4 and "Page 1 of" not in html


@pytest.mark.postgresql
def test_the_embedded_defaults_section_rows_are_the_single_querys_rows(full_provider):
    (loaded,) = organisations_for_profiles(organisation_ids=[full_provider.pk])
    orm = Organisation.objects.select_related("rating").get(pk=full_provider.pk)
    _sections_from_orm(orm)

    assert loaded.profile_assessment == orm.profile_assessment
    assert loaded.profile_projects == orm.profile_projects
    assert loaded.profile_reviews == orm.profile_reviews
    assert rating_summary(organisation=loaded) == rating_summary(organisation=orm)
    assert [row["status"] for row in loaded.profile_projects] == [
        "Starting soon",
        "In progress",
        "Completed",
    ]


@pytest.mark.postgresql
def test_a_provider_without_a_rating_row_reads_as_one_without_reviews():
    organisation = make_organisation("No row", slug="no-row")
    OrganisationRating.objects.filter(organisation=organisation).delete()
    (loaded,) = organisations_for_profiles(organisation_ids=[organisation.pk])

    assert rating_summary(organisation=loaded).count == 0
    assert python_body(organisation) == reference_body(organisation)


def test_the_profiles_organisation_read_is_the_orms_published_organisation():
    from search.selectors import organisation_for_profile

    organisation = make_organisation("Read <me>", slug="read-me", description="About us")
    hidden = make_organisation("Hidden", slug="hidden")
    closed = make_organisation("Closed", slug="closed")
    Organisation.objects.filter(pk=hidden.pk).update(live=False)
    Organisation.objects.filter(pk=closed.pk).update(status="closed")

    found = organisation_for_profile(slug="read-me")
    expected = Organisation.objects.published().get(slug="read-me")
    assert found == expected and not found._state.adding
    assert all(
        getattr(found, field.attname) == getattr(expected, field.attname)
        for field in Organisation._meta.concrete_fields
    )
    assert [organisation_for_profile(slug=slug) for slug in ("hidden", "closed", "nope")] == [
        None,
        None,
        None,
    ]
    assert organisation.pk == found.pk


def test_the_kept_organisation_query_refuses_a_time_from_python(monkeypatch):
    """The published-by-slug query is compiled once per process, so a condition on a time
    computed in Python would freeze; building it with one fails loudly instead."""
    from django.core.exceptions import ImproperlyConfigured

    from marketplace.providers.models import OrganisationQuerySet
    from search.selectors import _organisation_by_slug_query

    published = OrganisationQuerySet.published
    monkeypatch.setattr(
        OrganisationQuerySet,
        "published",
        lambda self: published(self).filter(created_at__lte=timezone.now()),
    )
    _organisation_by_slug_query.cache_clear()
    try:
        with pytest.raises(ImproperlyConfigured, match="date or time from Python"):
            _organisation_by_slug_query("default")
    finally:
        _organisation_by_slug_query.cache_clear()
