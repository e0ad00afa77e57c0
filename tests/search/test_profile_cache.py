"""The provider profile's cached body: served again without the database, fresh after
every kind of change the profile shows, and with each visitor's own shortlist state,
CSRF token and review link."""

import re
from datetime import timedelta

import pytest

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from marketplace.accounts.roles import Role
from marketplace.reviews.models import Review, ReviewStatus
from tests.commissioning.grants.conftest import award, officer, submitted  # noqa: F401
from tests.factories import BudgetHolderFactory, MembershipFactory, UserFactory, user_with_role
from tests.marketplace.reviews.factories import PurchaseFactory, ReviewFactory
from tests.search.factories import make_organisation, make_service
from tests.search.test_profile_sections import body_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(db):
    organisation = make_organisation(
        "Cached Care Partners", slug="cached-care", description="Help at home in Barnet."
    )
    service = make_service(
        "Cached Home Care", organisation=organisation, vacancies=2, cqc_location_id="1-555000111"
    )
    return organisation, service


def profile(client=None, slug="cached-care", expect=200, **params) -> str:
    response = (client or Client()).get(f"/providers/{slug}/", params)
    assert response.status_code == expect
    return response.content.decode()


def per_request_free(html: str) -> str:
    """The page without its CSP nonce and masked CSRF token, which change every request."""
    return re.sub(r'(nonce|name="csrfmiddlewaretoken" value)="[^"]*"', r"\1", html)


def body_keys() -> list[str]:
    return [key for key in cache._cache if re.search(r":profile:\d+:", key)]


@pytest.fixture
def changed(django_capture_on_commit_callbacks):
    """Run a change as a committed transaction would (its on-commit work included)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_second_visit_is_served_from_the_cache(
    provider, django_assert_max_num_queries, django_assert_num_queries
):
    first = profile()
    assert len(body_keys()) == 1
    with django_assert_max_num_queries(1):  # the organisation's row only
        second = profile()
    assert per_request_free(second) == per_request_free(first)
    assert "Cached Home Care" in second and "2 places free" in second


def test_a_first_visit_reads_each_related_list_once(provider):
    organisation, _ = provider
    make_service("Cached Day Centre", organisation=organisation, category="day_opportunities")
    ReviewFactory(
        purchase=PurchaseFactory(organisation=organisation),
        status=ReviewStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    profile(slug="no-such-provider-warms-the-page-chrome", expect=404)
    # Organisation; then its rating row, services and their 7 related lists, assessment,
    # projects and first page of reviews (search.profile_html.profile_rows_load): 2,
    # whatever the number of services. The embedded default (SQLite) reads the services,
    # each of the 7 lists, the rating row and each section in a query of its own: 13.
    with CaptureQueriesContext(connection) as queries:
        html = profile()
    assert len(body_queries(queries.captured_queries)) <= (
        2 if connection.vendor == "postgresql" else 13
    )
    assert "Cached Day Centre" in html and "Cached Home Care" in html


def test_shortlist_state_and_csrf_token_differ_per_visitor_while_the_body_is_cached(provider):
    _, service = provider
    keen, other = Client(), Client()
    profile(other)  # fills the cache
    keen.post("/shortlist/change", {"service": service.pk, "action": "add"})

    keen_page, other_page = profile(keen), profile(other)

    assert len(body_keys()) == 1
    assert "Remove from shortlist" in keen_page and "Add to shortlist" not in keen_page
    assert "Add to shortlist" in other_page and "Remove from shortlist" not in other_page
    assert "Your shortlist (1)" in keen_page and "Your shortlist (0)" in other_page
    tokens = [
        re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        for page in (keen_page, other_page)
    ]
    assert all(tokens) and tokens[0] != tokens[1]
    # The shortlist form works from the cached page.
    response = other.post(
        "/shortlist/change",
        {"service": service.pk, "action": "add", "next": "/providers/cached-care/"},
    )
    assert response.status_code == 302 and "Remove from shortlist" in profile(other)


def test_the_review_link_is_worked_out_for_each_visitor(provider):
    organisation, _ = provider
    holder = BudgetHolderFactory(user=UserFactory())
    PurchaseFactory(budget_holder=holder, organisation=organisation)
    eligible = Client()
    eligible.force_login(holder.user)

    anonymous_page = profile()
    eligible_page = profile(eligible)

    assert len(body_keys()) == 1
    assert "Write a review</a>" in eligible_page
    assert "Write a review</a>" not in anonymous_page
    assert "can <a class" in anonymous_page  # "... can write a review" explanation


def test_an_organisation_edit_shows_at_once(provider, changed):
    organisation, _ = provider
    assert "Help at home in Barnet." in profile()
    with changed():
        organisation.description = "Now also in Enfield."
        organisation.save()
    assert "Now also in Enfield." in profile()


def test_vacancy_price_and_location_edits_show_at_once(provider, changed):
    from marketplace.providers.services import service_live_update

    _, service = provider
    page = profile()
    assert "2 places free" in page and "£22.00 per hour" in page
    with changed():
        service_live_update(service=service, values={"vacancies": 0})
    assert "No vacancies at the moment" in profile()
    with changed():
        option = service.cost_options.get()
        option.amount_pence = 2475
        option.save()
    assert "£24.75 per hour" in profile()
    with changed():
        location = service.locations.get()
        location.address_1 = "7 New Street"
        location.save()
    assert "7 New Street" in profile()


def test_a_new_service_and_an_unpublished_organisation_show_at_once(provider, changed):
    organisation, _ = provider
    profile()
    with changed():
        make_service("Cached Lunch Club", organisation=organisation, category="meals")
    assert "Cached Lunch Club" in profile()
    with changed():
        organisation.live = False
        organisation.save()
    assert Client().get("/providers/cached-care/").status_code == 404


def test_an_approved_change_shows_and_a_waiting_draft_never_does(provider, changed):
    from django.contrib.auth.models import Group

    from marketplace.providers.selectors import record_draft
    from marketplace.providers.services import service_submit
    from tests.marketplace.providers.test_moderation import act

    _, service = provider
    profile()
    staff = MembershipFactory(organisation=service.organisation).user
    with changed():
        draft = record_draft(record=service)
        draft.name = "Cached Home Care Plus"
        service_submit(service=draft, user=staff)
    assert "Cached Home Care Plus" not in profile()
    moderator = UserFactory(is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    with changed():
        act(service, moderator, "approve")
    assert "Cached Home Care Plus" in profile()


def test_reviews_published_replied_and_withheld_show_at_once(provider, changed):
    from marketplace.reviews.services import (
        organisation_rating_refresh,
        review_reply,
        review_withhold,
    )

    organisation, _ = provider
    assert "has no published reviews yet" in profile()
    now = timezone.now()
    with changed():
        review = ReviewFactory(
            purchase=PurchaseFactory(organisation=organisation),
            status=ReviewStatus.AWAITING_REPLY,
            moderated_at=now,
            reply_due_at=now + timedelta(days=7),
            public_title="Always on time",
        )
    assert "Always on time" not in profile()
    staff = MembershipFactory(organisation=organisation).user
    with changed():
        review_reply(review=review, user=staff, text="Thank you for your kind words.")
    page = profile()
    assert "Always on time" in page and "Thank you for your kind words." in page
    assert "from 1 review" in page
    moderator = user_with_role(Role.CMS_EDITOR)
    with changed():
        review.refresh_from_db()
        review_withhold(review=review, moderator=moderator, reason="personal_data")
        organisation_rating_refresh(organisation=organisation)
    page = profile()
    assert "Always on time" not in page and "has no published reviews yet" in page


def test_a_rating_rebuild_shows_at_once(provider, changed):
    from marketplace.reviews.services import rating_summaries_refresh

    organisation, _ = provider
    ReviewFactory(
        purchase=PurchaseFactory(organisation=organisation),
        status=ReviewStatus.SUBMITTED,
        public_title="Kind and patient",
    )
    assert "has no published reviews yet" in profile()
    with changed():
        # A bulk change sends no signals; the nightly rebuild renews every profile.
        Review.objects.update(status=ReviewStatus.PUBLISHED, published_at=timezone.now())
        rating_summaries_refresh()
    page = profile()
    assert "Kind and patient" in page and "from 1 review" in page


def test_a_cqc_import_shows_at_once(provider, changed):
    from marketplace.providers.importers import cqc_ratings_import
    from tests.marketplace.providers.test_importers import FIXTURES

    assert "Not yet rated" in profile()
    with changed():
        cqc_ratings_import(text=(FIXTURES / "cqc_ratings.csv").read_text())
    page = profile()
    assert "Not yet rated" not in page and "Published 3 September 2025" in page


def test_an_assessment_status_change_shows_at_once(provider, changed):
    from commissioning.assessments.models import AssessmentStatus
    from tests.commissioning.assessments.factories import AssessmentFactory

    organisation, _ = provider
    assert "has not completed a Personalisation Impact Assessment yet" in profile()
    with changed():
        assessment = AssessmentFactory(organisation=organisation)
    assert "In progress" in profile()
    with changed():
        assessment.status = AssessmentStatus.AGREED
        assessment.agreed_at = timezone.now()
        assessment.save()
    assert "Agreed by the council" in profile()


def test_an_accepted_grant_agreement_shows_at_once(award, changed):  # noqa: F811
    from commissioning.grants.services import agreement_accept

    organisation = award.application.organisation
    organisation.live = True
    organisation.save()
    assert "Innovation Fund projects" not in profile(slug=organisation.slug)
    staff = organisation.memberships.first().user
    with changed():
        agreement_accept(award=award, user=staff, full_name="Pat Provider", confirmed=True)
    page = profile(slug=organisation.slug)
    assert "Innovation Fund projects" in page and award.application.title in page


def test_drafts_and_other_review_pages_are_neither_read_from_nor_written_to_the_cache(
    provider, changed
):
    organisation, _ = provider
    draft = make_organisation("Draft Care", slug="draft-care")
    make_service("Draft Service", organisation=draft)
    draft.live = False
    draft.save()
    assert Client().get("/providers/draft-care/").status_code == 404
    profile(reviews_page="2")
    assert body_keys() == []
    profile()
    assert len(body_keys()) == 1


# --- Warming: visitors get the cached body in steady state ------------------------------


def stored_body(organisation) -> str | None:
    """The body cached under the organisation's current version, without visiting."""
    from search.profile_cache import profile_body_get, profile_body_key

    body = profile_body_get(key=profile_body_key(organisation_id=organisation.pk))
    return body["html"] if body else None


def test_a_changed_organisation_is_rendered_after_commit_and_visitors_get_the_new_body(
    provider, changed, django_assert_max_num_queries
):
    organisation, _ = provider
    assert "Help at home in Barnet." in profile()
    with changed():
        organisation.description = "Now also in Enfield."
        organisation.save()
    # Rendered at commit, before anyone visits.
    assert "Now also in Enfield." in stored_body(organisation)
    with django_assert_max_num_queries(1):  # the organisation's row only: no render
        page = profile()
    assert "Now also in Enfield." in page and "Help at home in Barnet." not in page


def test_many_changed_rows_of_one_organisation_render_its_profile_once(
    provider, changed, monkeypatch
):
    from search import profile_cache

    organisation, service = provider
    renders = []
    real_render = profile_cache.profile_body_render
    monkeypatch.setattr(
        profile_cache,
        "profile_body_render",
        lambda **kwargs: renders.append(kwargs["organisation"].pk) or real_render(**kwargs),
    )
    with changed():
        organisation.phone = "020 7946 0000"
        organisation.save()
        service.vacancies = 4
        service.save()
        option = service.cost_options.get()
        option.amount_pence = 2600
        option.save()
    assert renders == [organisation.pk]
    html = stored_body(organisation)
    assert "020 7946 0000" in html and "4 places free" in html and "£26.00 per hour" in html


def test_a_change_rolled_back_renders_nothing(provider, changed, monkeypatch):
    from django.db import transaction

    from search import profile_cache

    organisation, _ = provider
    profile()
    renders = []
    monkeypatch.setattr(
        profile_cache, "profile_body_render", lambda **kwargs: renders.append(kwargs)
    )
    with changed(), pytest.raises(RuntimeError), transaction.atomic():
        organisation.description = "Never saved."
        organisation.save()
        raise RuntimeError
    assert renders == []
    assert "Help at home in Barnet." in profile()


def test_nothing_personal_is_stored_in_a_body_warmed_or_rendered_for_a_visitor(provider, changed):
    organisation, service = provider
    holder = BudgetHolderFactory(user=UserFactory(email="keen.visitor@example.org"))
    PurchaseFactory(budget_holder=holder, organisation=organisation)
    visitor = Client()
    visitor.force_login(holder.user)
    visitor.post("/shortlist/change", {"service": service.pk, "action": "add"})

    page = profile(visitor)  # renders and stores the body during a signed-in visit
    assert "Write a review</a>" in page and "Remove from shortlist" in page
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    for html in (stored_body(organisation), None):
        if html is None:  # then the same after a background render
            with changed():
                organisation.description = "Re-rendered in the background."
                organisation.save()
            html = stored_body(organisation)
            assert "Re-rendered in the background." in html
        assert token not in html and "csrfmiddlewaretoken" not in html
        assert "keen.visitor@example.org" not in html and "Your account" not in html
        assert "Remove from shortlist" not in html and "Add to shortlist" not in html
        assert "Write a review</a>" not in html
        assert f"<!--scc:shortlist:{service.pk}-->" in html and "<!--scc:may-review-->" in html


def test_a_rating_rebuild_queues_every_published_profile_for_the_worker(
    provider, changed, settings, monkeypatch
):
    from marketplace.reviews.services import rating_summaries_refresh
    from search.tasks import profiles_warm_all

    organisation, _ = provider
    ReviewFactory(
        purchase=PurchaseFactory(organisation=organisation),
        status=ReviewStatus.SUBMITTED,
        public_title="Kind and patient",
    )
    profile()
    queued = []
    monkeypatch.setattr(profiles_warm_all, "delay", lambda: queued.append(True))
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a worker takes the queued task
    with changed():
        Review.objects.update(status=ReviewStatus.PUBLISHED, published_at=timezone.now())
        rating_summaries_refresh()
    assert queued == [True]
    assert stored_body(organisation) is None  # the new version has nothing yet
    assert profiles_warm_all() == 1  # what the worker runs
    html = stored_body(organisation)
    assert "Kind and patient" in html and "from 1 review" in html


def test_in_process_a_rating_rebuild_leaves_profiles_to_their_next_visit(
    provider, changed, monkeypatch
):
    from marketplace.reviews.services import rating_summaries_refresh
    from search import profile_cache

    organisation, _ = provider
    profile()
    renders = []
    monkeypatch.setattr(
        profile_cache, "profile_body_render", lambda **kwargs: renders.append(kwargs)
    )
    with changed():
        rating_summaries_refresh()
    assert renders == [] and stored_body(organisation) is None


def test_the_command_renders_each_profile_not_cached_under_its_version_once(provider):
    from io import StringIO

    from django.core.management import call_command

    organisation, _ = provider
    make_service("Second Home Care", organisation=make_organisation("Second Care"))
    draft = make_organisation("Draft Care", slug="draft-care")
    draft.live = False
    draft.save()

    out = StringIO()
    call_command("profiles_warm", stdout=out)
    assert "Rendered 2 provider profiles" in out.getvalue()
    assert "Cached Home Care" in stored_body(organisation)
    out = StringIO()
    call_command("profiles_warm", stdout=out)
    assert "Rendered 0 provider profiles" in out.getvalue()


def test_the_command_rejects_a_limit_below_one():
    from django.core.management import call_command
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--limit must be 1 or more"):
        call_command("profiles_warm", limit=0)


def test_the_beat_catch_up_renders_profiles_after_the_cache_is_emptied(
    provider, django_assert_max_num_queries
):
    from search.tasks import services_reindex_recently_confirmed

    organisation, _ = provider
    profile()
    cache.clear()  # a cache server restarted, or a new day's keys
    assert stored_body(organisation) is None
    services_reindex_recently_confirmed()
    assert "Cached Home Care" in stored_body(organisation)
    profile(slug="no-such-provider-warms-the-page-chrome", expect=404)
    with django_assert_max_num_queries(1):
        profile()


@pytest.fixture
def clock(monkeypatch):
    """``clock["days"] = n`` moves timezone.now (and so localdate) n days on."""
    moved = {"days": 0}
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(days=moved["days"]))
    return moved


def test_a_body_is_served_after_midnight_when_nothing_on_it_changes_with_the_date(
    provider, clock, django_assert_max_num_queries
):
    """No date in the key: bodies do not all go cold together at midnight."""
    first = profile()
    clock["days"] = 1
    with django_assert_max_num_queries(1):  # the organisation's row only: no render
        second = profile()
    assert per_request_free(second) == per_request_free(first)
    assert len(body_keys()) == 1


def test_a_project_changes_status_at_midnight_on_a_cached_profile(
    award,  # noqa: F811
    changed,
    clock,
    body_timeouts,
):
    from commissioning.grants.services import agreement_accept

    organisation = award.application.organisation
    organisation.live = True
    organisation.save()
    today = timezone.localdate()
    award.starts_on, award.ends_on = today - timedelta(days=30), today + timedelta(days=1)
    award.save()
    staff = organisation.memberships.first().user
    with changed():
        agreement_accept(award=award, user=staff, full_name="Pat Provider", confirmed=True)

    cache.clear()
    body_timeouts.clear()
    page = profile(slug=organisation.slug)
    assert "In progress" in page and "Completed" not in page
    # Stored until the midnight after the project's last day (at most two days away).
    assert body_timeouts and 0 < body_timeouts[-1] <= 2 * 24 * 60 * 60

    clock["days"] = 1  # its last day: still in progress, still the cached body
    assert "In progress" in profile(slug=organisation.slug) and len(body_timeouts) == 1
    clock["days"] = 2  # the day after: completed, rendered again
    page = profile(slug=organisation.slug)
    assert "Completed" in page and "In progress" not in page and len(body_timeouts) == 2


def test_a_project_row_says_when_its_status_changes(award):  # noqa: F811
    from commissioning.grants.selectors import projects_for_organisation

    organisation = award.application.organisation
    award.agreement_accepted_at = timezone.now()
    today = timezone.localdate()
    for starts, ends, status, changes in [
        (today + timedelta(days=3), today + timedelta(days=90), "Starting soon", 3),
        (today - timedelta(days=3), today, "In progress", 1),
        (today - timedelta(days=90), today - timedelta(days=1), "Completed", None),
    ]:
        award.starts_on, award.ends_on = starts, ends
        award.save()
        (row,) = projects_for_organisation(organisation=organisation)
        assert row["status"] == status
        expected = None if changes is None else today + timedelta(days=changes)
        assert row["status_changes_on"] == expected
