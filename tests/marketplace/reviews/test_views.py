"""The review screens: who sees what, and what the server refuses."""

from datetime import timedelta

import pytest

from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from marketplace.accounts.models import AuditEvent
from marketplace.accounts.roles import Role
from marketplace.reviews.models import Review, ReviewReport, ReviewStatus
from marketplace.reviews.services import organisation_rating_refresh
from tests.conftest import sign_in
from tests.factories import (
    BudgetHolderFactory,
    DelegationFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
)

from .factories import PurchaseFactory, ReviewFactory

pytestmark = pytest.mark.django_db

FORM = {
    "rating": "2",
    "dignity": "3",
    "reliability": "1",
    "choice": "2",
    "value": "3",
    "title": "Often late",
    "body": "Carers came an hour late most mornings and nobody phoned to say.",
}


def signed_in(user) -> Client:
    return sign_in(Client(), user)


def holder_client(with_purchase=True):
    user = UserFactory()
    holder = BudgetHolderFactory(user=user)
    organisation = OrganisationFactory()
    if with_purchase:
        PurchaseFactory(budget_holder=holder, organisation=organisation)
    return signed_in(user), holder, organisation


def test_eligible_budget_holder_writes_a_review_with_radios_for_stars():
    client, holder, organisation = holder_client()
    url = f"/providers/{organisation.slug}/review/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'type="radio"' in html and "5 stars: excellent" in html and "1 star: very poor" in html
    assert "Treated with dignity and respect" in html
    response = client.post(url, {**FORM, "budget_holder": holder.pk})
    assert response.status_code == 302
    assert client.get(response["Location"]).content.decode().count("Review sent") >= 1
    review = Review.objects.get()
    assert review.budget_holder == holder and review.status == ReviewStatus.SUBMITTED


def test_unverified_user_sees_why_and_a_direct_post_is_refused():
    client, holder, organisation = holder_client(with_purchase=False)
    url = f"/providers/{organisation.slug}/review/"
    page = client.get(url)
    assert page.status_code == 403
    assert "no payment to" in page.content.decode()
    response = client.post(url, {**FORM, "budget_holder": holder.pk})
    assert response.status_code == 403
    assert "You cannot review" in response.content.decode()
    assert not Review.objects.exists()


def test_user_without_a_budget_is_told_reviews_need_one():
    client = signed_in(UserFactory())
    organisation = OrganisationFactory()
    response = client.post(f"/providers/{organisation.slug}/review/", FORM)
    assert response.status_code == 403
    assert "not linked to a personal budget" in response.content.decode()
    assert not Review.objects.exists()


def test_signed_out_visitor_is_sent_to_sign_in():
    organisation = OrganisationFactory()
    response = Client().get(f"/providers/{organisation.slug}/review/")
    assert response.status_code == 302 and "sign-in" in response["Location"]


def test_proxy_chooses_whom_to_review_for_and_cannot_post_for_someone_else():
    purchase = PurchaseFactory()
    delegation = DelegationFactory(budget_holder=purchase.budget_holder)
    # Someone the proxy does not act for, who also bought from the provider.
    stranger = PurchaseFactory(organisation=purchase.organisation).budget_holder
    client = signed_in(delegation.proxy)
    url = f"/providers/{purchase.organisation.slug}/review/"
    # Names such as O'Sullivan appear escaped in the page.
    assert escape(purchase.budget_holder.full_name) in client.get(url).content.decode()
    refused = client.post(url, {**FORM, "budget_holder": stranger.pk})
    assert refused.status_code == 200  # the form shows an error; nothing is saved
    assert not Review.objects.exists()
    client.post(url, {**FORM, "budget_holder": purchase.budget_holder.pk})
    review = Review.objects.get()
    assert review.author == delegation.proxy and review.author_role == "proxy"


def test_moderation_queue_is_for_moderators_only(client_for):
    review = ReviewFactory()
    for role in (Role.BUDGET_HOLDER, Role.PROVIDER_STAFF, Role.COMMISSIONER, None):
        client, _ = client_for(role)
        for url in ("/reviews/moderate/", f"/reviews/moderate/{review.pk}/"):
            response = client.get(url)
            assert response.status_code in (302, 403), (role, url)
        response = client.post(f"/reviews/moderate/{review.pk}/withhold/", {"reason": "abuse"})
        assert response.status_code in (302, 403)
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED


def test_moderator_sends_a_de_identified_review_to_the_provider(client_for):
    client, moderator = client_for(Role.CMS_EDITOR)
    review = ReviewFactory(body="Jo rang me on 07700 900123. The carers were rude.")
    queue = client.get("/reviews/moderate/")
    assert queue.status_code == 200 and review.organisation.name in queue.content.decode()
    page = client.get(f"/reviews/moderate/{review.pk}/")
    html = page.content.decode()
    assert "07700 900123" in html  # the original, for the moderator
    assert "[phone number removed]" in html  # the suggestion
    assert AuditEvent.objects.filter(
        object_id=str(review.pk), action="viewed", actor=moderator
    ).exists()
    response = client.post(
        f"/reviews/moderate/{review.pk}/",
        {
            "public_title": review.title,
            "public_body": "Jo rang me on [phone number removed]. The carers were rude.",
        },
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_REPLY


def test_moderator_cannot_soften_or_withhold_without_a_listed_reason(client_for):
    client, _ = client_for(Role.CMS_EDITOR)
    review = ReviewFactory(body="The carers were rude and late every single day.")
    softened = client.post(
        f"/reviews/moderate/{review.pk}/",
        {"public_title": review.title, "public_body": "The carers were sometimes late."},
    )
    assert softened.status_code == 200
    assert "must keep what the person said" in softened.content.decode()
    no_reason = client.post(f"/reviews/moderate/{review.pk}/withhold/", {"reason": "negative"})
    assert no_reason.status_code == 200
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED
    client.post(f"/reviews/moderate/{review.pk}/withhold/", {"reason": "defamation"})
    review.refresh_from_db()
    assert review.status == ReviewStatus.WITHHELD and review.withheld_reason == "defamation"


def awaiting_review(**fields):
    now = timezone.now()
    return ReviewFactory(
        status=ReviewStatus.AWAITING_REPLY,
        moderated_at=now,
        reply_due_at=now + timedelta(days=7),
        public_body="The carers were rude. [name removed] was lovely though.",
        **fields,
    )


def test_provider_sees_de_identified_text_and_replies():
    review = awaiting_review(body="The carers were rude. Jo Bloggs was lovely though.")
    staff = MembershipFactory(organisation=review.organisation).user
    client = signed_in(staff)
    listing = client.get("/provider/reviews/").content.decode()
    assert "[name removed] was lovely" in listing
    assert "Jo Bloggs" not in listing
    response = client.post(f"/provider/reviews/{review.pk}/reply/", {"text": "We are sorry."})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED and review.reply == "We are sorry."


def test_another_provider_gets_404_for_a_review_of_someone_else():
    review = awaiting_review()
    other = signed_in(MembershipFactory().user)
    assert review.public_title not in other.get("/provider/reviews/").content.decode()
    assert other.get(f"/provider/reviews/{review.pk}/reply/").status_code == 404
    assert other.post(f"/provider/reviews/{review.pk}/reply/", {"text": "x"}).status_code == 404
    assert other.post(f"/provider/reviews/{review.pk}/publish/").status_code == 404
    review.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_REPLY


def test_profile_reviews_show_summary_replies_and_report_links_and_hide_the_original():
    review = ReviewFactory(
        status=ReviewStatus.PUBLISHED,
        published_at=timezone.now(),
        rating=1,
        body="Original with Jo Bloggs in it.",
        public_title="Never turned up",
        public_body="Original with [name removed] in it.",
        reply="We have changed our rota.",
        replied_at=timezone.now(),
    )
    organisation_rating_refresh(organisation=review.organisation)
    html = Client().get(f"/providers/{review.organisation.slug}/reviews/").content.decode()
    assert "Never turned up" in html
    assert "1.0 out of 5 stars from 1 review" in html
    assert "We have changed our rota." in html
    assert f"/reviews/{review.pk}/report/" in html
    assert "Jo Bloggs" not in html
    assert "Treated with dignity and respect" in html


def test_anyone_signed_out_may_report_a_published_review():
    review = ReviewFactory(status=ReviewStatus.PUBLISHED, published_at=timezone.now())
    client = Client()
    assert client.get(f"/reviews/{review.pk}/report/").status_code == 200
    response = client.post(
        f"/reviews/{review.pk}/report/", {"reason": "personal_data", "details": "Names me"}
    )
    assert response.status_code == 200 and "Report sent" in response.content.decode()
    report = ReviewReport.objects.get()
    assert report.reporter is None and report.resolved_at is None


def test_unpublished_reviews_cannot_be_reported_or_seen():
    review = ReviewFactory()
    assert Client().get(f"/reviews/{review.pk}/report/").status_code == 404


def test_moderator_resolves_a_report_by_withholding_for_a_listed_reason(client_for):
    client, _ = client_for(Role.CMS_EDITOR)
    review = ReviewFactory(status=ReviewStatus.PUBLISHED, published_at=timezone.now())
    report = ReviewReport.objects.create(review=review, reason="abuse")
    assert review.organisation.name in client.get("/reviews/moderate/").content.decode()
    missing_reason = client.post(
        f"/reviews/moderate/reports/{report.pk}/", {"decision": "withhold"}
    )
    assert missing_reason.status_code == 200
    client.post(
        f"/reviews/moderate/reports/{report.pk}/", {"decision": "withhold", "reason": "abuse"}
    )
    review.refresh_from_db()
    assert review.status == ReviewStatus.WITHHELD


def test_include_renders_with_only_the_organisation_and_offers_eligible_users_a_review_link():
    """The provider profile page includes the section giving it just ``organisation``."""
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string
    from django.test import RequestFactory

    purchase = PurchaseFactory(budget_holder=BudgetHolderFactory(user=UserFactory()))
    organisation = purchase.organisation
    request = RequestFactory().get(f"/providers/{organisation.slug}/")
    request.user = AnonymousUser()
    html = render_to_string(
        "reviews/includes/profile_reviews.html", {"organisation": organisation}, request=request
    )
    assert "has no published reviews yet" in html
    assert 'class="govuk-button govuk-button--secondary app-print-hide"' not in html
    request.user = purchase.budget_holder.user
    html = render_to_string(
        "reviews/includes/profile_reviews.html", {"organisation": organisation}, request=request
    )
    assert "Write a review</a>" in html


def test_review_can_name_which_of_the_providers_services_it_is_about():
    from tests.marketplace.providers.factories import ServiceFactory

    client, holder, organisation = holder_client()
    home_care = ServiceFactory(organisation=organisation, name="Morning home care")
    ServiceFactory(organisation=organisation, name="Lunch club")
    url = f"/providers/{organisation.slug}/review/"
    html = client.get(url).content.decode()
    assert "Which service is your review about?" in html and "Morning home care" in html
    client.post(url, {**FORM, "budget_holder": holder.pk, "service": home_care.pk})
    assert Review.objects.get().service == home_care


def test_reviews_page_queries_do_not_grow_with_the_number_of_reviews():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    organisation = OrganisationFactory()

    def publish(count):
        for _ in range(count):
            ReviewFactory(
                purchase=PurchaseFactory(organisation=organisation),
                status=ReviewStatus.PUBLISHED,
                published_at=timezone.now(),
                reply="Thank you",
                replied_at=timezone.now(),
            )
        organisation_rating_refresh(organisation=organisation)

    client = Client()
    url = f"/providers/{organisation.slug}/reviews/"
    publish(1)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    publish(9)
    with CaptureQueriesContext(connection) as ten:
        html = client.get(url).content.decode()
    assert html.count("Reply from") == 10
    assert len(ten) == len(one)


def test_provider_profile_page_shows_the_reviews_section():
    """Journey 2's end: the published review, negative parts intact, on the public profile."""
    from tests.marketplace.providers.factories import ServiceFactory

    service = ServiceFactory()
    organisation = service.organisation
    review = ReviewFactory(
        purchase=PurchaseFactory(organisation=organisation),
        status=ReviewStatus.PUBLISHED,
        published_at=timezone.now(),
        rating=2,
        public_title="Late most mornings",
        public_body="Carers were an hour late most mornings.",
        reply="We have changed the rota.",
        replied_at=timezone.now(),
    )
    organisation_rating_refresh(organisation=organisation)
    response = Client().get(f"/providers/{organisation.slug}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="reviews-heading"' in html
    assert "Late most mornings" in html and "an hour late most mornings" in html
    assert "We have changed the rota." in html
    assert f"/reviews/{review.pk}/report/" in html


def test_moderators_find_the_queue_in_the_wagtail_menu(client_for):
    client, _ = client_for(Role.CMS_EDITOR)
    assert "/reviews/moderate/" in client.get("/admin/").content.decode()


def test_moderators_must_complete_two_factor_sign_in_first():
    from tests.factories import user_with_role

    moderator = user_with_role(Role.CMS_EDITOR)
    client = Client()
    client.force_login(moderator, backend="django.contrib.auth.backends.ModelBackend")
    response = client.get("/reviews/moderate/")
    assert response.status_code == 302 and "/account/two-factor/" in response["Location"]


def test_pages_for_a_provider_the_public_cannot_see_are_not_found():
    client, holder, organisation = holder_client()
    organisation.status = "closed"
    organisation.save()
    assert client.get(f"/providers/{organisation.slug}/review/").status_code == 404
    assert Client().get(f"/providers/{organisation.slug}/reviews/").status_code == 404
