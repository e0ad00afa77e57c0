"""The provider profile's first visit: services and their lists read in one query and
written in Python exactly as the template wrote them; concurrent first visits render
once; a cached body stops being served the moment a service on it becomes "May be out
of date"."""

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from django.core.cache import cache
from django.db import connection
from django.template import engines
from django.test import Client
from django.utils import timezone
from django.utils.safestring import mark_safe

from marketplace.providers.models import (
    STALE_AFTER,
    CostOption,
    Organisation,
    Service,
    ServiceStatus,
)
from marketplace.reviews.selectors import rating_summary
from search import profile_cache
from search.documents.services import service_queryset
from search.presenters import category_label
from search.profile_html import (
    _services_by_organisation,
    organisations_for_profiles,
    services_html,
)
from tests.search.factories import make_organisation, make_service

pytestmark = pytest.mark.django_db

REFERENCE = Path(__file__).with_name("profile_services_reference.html")


def reference_html(organisation: Organisation) -> str:
    """The services section as the template loop wrote it, from the ORM's prefetches."""
    services = list(service_queryset().filter(organisation=organisation).order_by("name", "pk"))
    hits = [
        (
            service,
            {
                "category_label": category_label(service.category),
                "temporarily_closed": service.status == "temporarily closed",
                "shortlist_marker": mark_safe(profile_cache.shortlist_marker(service.pk)),  # noqa: S308
            },
        )
        for service in services
    ]
    template = engines["django"].from_string(REFERENCE.read_text())
    return template.render({"services": hits, "organisation": organisation})


def python_html(organisation: Organisation) -> str:
    (loaded,) = organisations_for_profiles(organisation_ids=[organisation.pk])
    return services_html(
        loaded.profile_services,
        organisation_name=loaded.name,
        markers=profile_cache.shortlist_marker,
    )


def make_varied_organisation() -> Organisation:
    """Services with every list full, empty, escaped, stale, closed, hidden and gone."""
    now = timezone.now()
    organisation = make_organisation("Smith & Jones <Care>", slug="smith-jones")
    make_service(
        'Bob\'s "home" care',
        organisation=organisation,
        description="Line one\nLine <two>\r\nLine & three\rend",
        # Care groups and features are listed as written (id order); written here in
        # their values' order, the order SQLite's unordered reference read gives too.
        care_groups=("dementia", "learning_disability", "older_people"),
        areas=("N3", "EN5", "HA8"),
        languages=("Polish", "English", "Arabic"),
        accessibility=("bsl", "hearing_loop", "wheelchair"),
        vacancies=1,
        card=True,
        cqc_rating="Good",
        cqc_location_id="1-123",
        minimum_age=18,
        contact_name="Ann <O'Neil>",
        contact_phone="020 8359 0000",
        contact_email="ann+care@example.org",
        accepts_marketplace_payment=True,
        status=ServiceStatus.TEMPORARILY_CLOSED,
        last_confirmed_at=now - STALE_AFTER - timedelta(days=3),
    )
    plain = make_service(
        "Another service",
        organisation=organisation,
        care_groups=(),
        price_pence=None,
        postcode=None,
        languages=(),
        days=(),
        vacancies=0,
        cqc_location_id="1-999",
        maximum_age=65,
        accepts_invoice=False,
        contact_email="x@example.org",
        last_confirmed_at=now - STALE_AFTER + timedelta(days=1),
    )
    for amount, option, basis in [(1500, "Weekday & evening", "per 15 <minutes>"), (900, "", "")]:
        CostOption.objects.create(
            service=plain, amount_pence=amount, unit="session", option=option, charging_basis=basis
        )
    make_service("Plenty", organisation=organisation, vacancies=12)
    make_service("Hidden", organisation=organisation)
    Service.objects.filter(name="Hidden").update(live=False)
    make_service("Gone", organisation=organisation, status=ServiceStatus.INACTIVE)
    return organisation


def test_the_python_services_section_is_the_templates_to_the_byte():
    organisation = make_varied_organisation()

    html = python_html(organisation)
    assert html == reference_html(organisation)
    assert html.count("<section") == 3 and "Hidden" not in html and "Gone" not in html
    assert "Smith &amp; Jones" not in html and "Bob&#x27;s &quot;home&quot; care" in html
    assert "Line one<br>Line &lt;two&gt;<br>Line &amp; three<br>end" in html
    assert html.count("May be out of date") == 1


def test_an_organisation_without_services_says_so():
    organisation = make_organisation("Empty <Org>", slug="empty")
    make_service("Draft only", organisation=organisation)
    Service.objects.filter(name="Draft only").update(live=False)
    html = python_html(organisation)
    assert html == reference_html(organisation)
    assert "Empty &lt;Org&gt; has no services listed at the moment." in html


def test_two_queries_read_a_batch_of_organisations_with_services_lists_and_ratings(
    django_assert_num_queries,
):
    organisations = [make_organisation(f"Batch {n}", slug=f"batch-{n}") for n in range(3)]
    for n, organisation in enumerate(organisations):
        for k in range(n + 1):
            make_service(f"Batch {n} service {k}", organisation=organisation, areas=("N3",))
    hidden = make_organisation("Not live", slug="not-live")
    Organisation.objects.filter(pk=hidden.pk).update(live=False)
    # PostgreSQL builds the lists, sections and rating rows in one query after the
    # organisations'; the embedded default (SQLite) reads the organisations, their services
    # and each of the seven lists once for the batch, and the assessment, projects and
    # reviews of each organisation.
    with django_assert_num_queries(2 if connection.vendor == "postgresql" else 9 + 3 * 3):
        loaded = organisations_for_profiles(
            organisation_ids=[o.pk for o in organisations] + [hidden.pk]
        )
        summaries = [rating_summary(organisation=organisation) for organisation in loaded]
    assert sorted(len(o.profile_services) for o in loaded) == [1, 2, 3]
    assert [s.count for s in summaries] == [0, 0, 0]
    assert all(s["areas"] == ["N3"] for o in loaded for s in o.profile_services)


def test_the_embedded_defaults_orm_rows_are_the_single_querys_rows():
    organisation = make_varied_organisation()
    other = make_organisation("Other", slug="other")
    make_service("Other service", organisation=other)

    orm_rows = _services_by_organisation([organisation.pk, other.pk])
    (loaded,) = organisations_for_profiles(organisation_ids=[organisation.pk])

    assert orm_rows[organisation.pk] == loaded.profile_services
    assert [row["name"] for row in orm_rows[organisation.pk]] == [
        "Another service",
        'Bob\'s "home" care',
        "Plenty",
    ]
    assert orm_rows[organisation.pk][0]["cost_options"][:2] == [
        [900, "session", "", ""],
        [1500, "session", "Weekday & evening", "per 15 <minutes>"],
    ]
    assert [row["name"] for row in orm_rows[other.pk]] == ["Other service"]


# --- Concurrent first visits -----------------------------------------------------


@pytest.fixture
def slow_render(monkeypatch):
    """profile_body_render counting its calls and taking 0.2 s, without the database
    (the threads below have no access to the test's transaction)."""
    renders = []

    def render(*, organisation, request=None):
        renders.append(organisation.pk)
        time.sleep(0.2)
        return {"html": f"body of {organisation.pk}", "service_names": {}, "expires": None}

    monkeypatch.setattr(profile_cache, "profile_body_render", render)
    return renders


def test_concurrent_first_visits_to_one_profile_render_it_once(slow_render):
    organisation = Organisation(pk=987654, name="Busy")
    bodies = []

    def visit():
        bodies.append(profile_cache.profile_body_cached(organisation=organisation))

    threads = [threading.Thread(target=visit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert slow_render == [987654]
    assert [body["html"] for body in bodies] == ["body of 987654"] * 8
    # The lock is released: a new version renders at once, without waiting.
    cache.delete(profile_cache._version_key(987654))
    started = time.monotonic()
    profile_cache.profile_body_cached(organisation=organisation)
    assert slow_render == [987654, 987654] and time.monotonic() - started < 0.5


def test_a_visitor_waits_only_briefly_for_a_render_that_never_finishes(slow_render, monkeypatch):
    monkeypatch.setattr(profile_cache, "RENDER_WAIT", 0.1)
    organisation = Organisation(pk=987655, name="Stuck")
    key = profile_cache.profile_body_key(organisation_id=organisation.pk)
    assert cache.add(key + ":rendering", 1, 30)  # another process took the lock and died
    started = time.monotonic()
    body = profile_cache.profile_body_cached(organisation=organisation)
    assert body["html"] == "body of 987655" and slow_render == [987655]
    assert time.monotonic() - started < 1
    assert profile_cache.profile_body_get(key=key) == body


def test_a_failed_render_releases_the_lock(monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(profile_cache, "profile_body_render", broken)
    organisation = Organisation(pk=987656, name="Broken")
    with pytest.raises(RuntimeError):
        profile_cache.profile_body_cached(organisation=organisation)
    key = profile_cache.profile_body_key(organisation_id=organisation.pk)
    assert cache.get(key + ":rendering") is None


# --- Staleness ------------------------------------------------------------------


def test_may_be_out_of_date_shows_the_moment_a_service_becomes_stale(monkeypatch, body_timeouts):
    now = timezone.now()
    organisation = make_organisation("Ageing Care", slug="ageing-care")
    make_service(
        "Ageing service",
        organisation=organisation,
        last_confirmed_at=now - STALE_AFTER + timedelta(minutes=30),
    )
    make_service("Fresh service", organisation=organisation, last_confirmed_at=now)
    timeouts = body_timeouts
    client = Client()
    assert "May be out of date" not in client.get("/providers/ageing-care/").content.decode()
    # Stored until the ageing service turns stale, not for the day.
    assert timeouts and 29 * 60 < timeouts[-1] <= 30 * 60 + 1
    html = client.get("/providers/ageing-care/").content.decode()
    assert "May be out of date" not in html and len(timeouts) == 1  # served from the cache

    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(minutes=31))
    html = client.get("/providers/ageing-care/").content.decode()
    assert html.count("May be out of date") == 1 and len(timeouts) == 2
    # Nothing on it turns stale any more before the fresh service does (182 days on).
    assert timeouts[-1] == profile_cache.BODY_TIMEOUT
