"""Issue 3 reviews in a real browser, axe-core on every page.

A budget holder with a verified purchase writes a review; a moderator removes
the personal details and sends it to the provider; the provider replies, which
publishes it; the public sees it (de-identified, with the reply) on the
profile. Someone without a verified purchase is refused, in the browser and on
a direct POST.
"""

import re

import pytest
from playwright.sync_api import expect

from marketplace.accounts.roles import Role
from marketplace.reviews.models import Review, ReviewStatus
from tests.browser.conftest import (
    TIMEOUT_MS,
    assert_no_axe_violations,
    click_through,
    follow,
    sign_in_through_the_page,
    submit,
)
from tests.factories import PASSWORD, BudgetHolderFactory, MembershipFactory, UserFactory
from tests.marketplace.reviews.factories import PurchaseFactory
from tests.search.factories import make_organisation, make_service

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Kind but often late"
BODY = (
    "The carers were kind but came an hour late most mornings. "
    "Ring me on 07700 900123 if you want to know more."
)


@pytest.fixture
def provider(embedded_default):
    organisation = make_organisation(
        "Church End Home Care Ltd", sector="private", slug="church-end-home-care"
    )
    make_service("Church End Morning Visits", organisation=organisation, postcode="N3 1AA")
    return organisation


def _tab(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, java_script_enabled=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return context, page


def _stars(page, question: str, label: str) -> None:
    page.get_by_role("group", name=question).get_by_label(label, exact=True).check()


def test_review_is_written_moderated_replied_to_and_published(
    browser_page, chromium, live_server, provider
):
    from tests.factories import user_with_role

    holder = BudgetHolderFactory(user=UserFactory())
    PurchaseFactory(budget_holder=holder, organisation=provider)
    staff = MembershipFactory(organisation=provider).user
    moderator = user_with_role(Role.CMS_EDITOR)

    # 1. The budget holder writes it, from the provider's profile.
    page = browser_page
    sign_in_through_the_page(page, holder.user, PASSWORD)
    page.goto(f"/providers/{provider.slug}/")
    assert_no_axe_violations(page, context="profile, signed in as a budget holder")
    follow(page, "Write a review")
    expect(page.locator("h1")).to_have_text(provider.name)
    assert_no_axe_violations(page, context="review form")
    _stars(page, "Overall, how would you rate this provider?", "3 stars: all right")
    _stars(page, "Treated with dignity and respect", "5 stars: excellent")
    _stars(page, "Reliable and on time", "1 star: very poor")
    _stars(page, "Listens and gives me choice", "4 stars: good")
    _stars(page, "Value for money", "3 stars: all right")
    page.get_by_label("Give your review a title").fill(TITLE)
    page.get_by_label("Tell us what happened").fill(BODY)
    submit(page, "Send review")
    expect(page.locator("h1")).to_contain_text("Review sent")
    assert_no_axe_violations(page, context="review sent")
    review = Review.objects.get()
    assert review.status == ReviewStatus.SUBMITTED and review.budget_holder == holder

    # Not on the profile yet.
    page.goto(f"/providers/{provider.slug}/")
    expect(page.locator("#reviews-heading").locator("..")).not_to_contain_text(TITLE)

    # 2. A moderator de-identifies it and sends it to the provider.
    context, moderator_page = _tab(chromium, live_server)
    try:
        sign_in_through_the_page(moderator_page, moderator, PASSWORD)
        moderator_page.goto("/reviews/moderate/")
        assert_no_axe_violations(moderator_page, context="moderation queue")
        follow(moderator_page, f"Moderate review {review.pk}")
        expect(moderator_page.locator("h1")).to_have_text(f"Moderate a review of {provider.name}")
        assert_no_axe_violations(moderator_page, context="moderate a review")
        suggested = moderator_page.get_by_label("Review to publish").input_value()
        assert "07700 900123" not in suggested and "[phone number removed]" in suggested
        submit(moderator_page, "Send to provider")
        expect(moderator_page.locator("main")).to_contain_text(
            "has been sent to Church End Home Care Ltd"
        )
        assert_no_axe_violations(moderator_page, context="queue after moderating")
    finally:
        context.close()
    review.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_REPLY

    # 3. The provider replies, which publishes it.
    context, provider_page = _tab(chromium, live_server)
    try:
        sign_in_through_the_page(provider_page, staff, PASSWORD)
        provider_page.goto("/provider/reviews/")
        expect(provider_page.locator("h1")).to_have_text("Your reviews")
        assert_no_axe_violations(provider_page, context="provider's reviews")
        # The whole document, hidden fields and attributes too, now that it has loaded.
        assert "07700 900123" not in provider_page.content()
        click_through(provider_page.get_by_role("link", name=f"Reply to {TITLE}").first)
        expect(provider_page.locator("h1")).to_have_text("Reply to a review")
        assert_no_axe_violations(provider_page, context="reply form")
        provider_page.get_by_label("Your public reply").fill(
            "We are sorry. We have changed our rota so morning visits start on time."
        )
        submit(provider_page, "Publish reply")
        expect(provider_page.locator("main")).to_contain_text("Your reply has been published")
        assert_no_axe_violations(provider_page, context="provider's reviews after replying")
    finally:
        context.close()
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED

    # 4. Anyone sees it on the profile: de-identified, with the reply and the rating.
    context, public_page = _tab(chromium, live_server)
    try:
        public_page.goto(f"/providers/{provider.slug}/")
        reviews = public_page.locator("section.app-reviews")
        expect(reviews).to_contain_text(TITLE)
        expect(reviews).to_contain_text("[phone number removed]")
        expect(reviews).not_to_contain_text("07700 900123")
        expect(reviews).to_contain_text("changed our rota")
        expect(reviews).to_contain_text(re.compile(r"from 1 review\b"))
        assert_no_axe_violations(public_page, context="profile with the published review")
    finally:
        context.close()


def test_someone_without_a_verified_purchase_cannot_reach_or_post_the_form(browser_page, provider):
    holder = BudgetHolderFactory(user=UserFactory())
    PurchaseFactory(budget_holder=holder)  # bought from someone else
    page = browser_page
    sign_in_through_the_page(page, holder.user, PASSWORD)

    page.goto(f"/providers/{provider.slug}/")
    expect(page.locator("h1")).to_have_text(provider.name)
    # Only the general sentence about who may review, not the "Write a review" button.
    expect(page.get_by_role("link", name="Write a review", exact=True)).to_have_count(0)
    response = page.goto(f"/providers/{provider.slug}/review/")
    assert response.status == 403
    expect(page.locator("main")).to_contain_text("You cannot review")
    expect(page.get_by_role("button", name="Send review")).to_have_count(0)
    assert_no_axe_violations(page, context="cannot review")

    # A hand-made POST with a valid CSRF token is refused too.
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    refused = page.request.post(
        f"/providers/{provider.slug}/review/",
        form={
            "csrfmiddlewaretoken": token,
            "budget_holder": str(holder.pk),
            "rating": "1",
            "dignity": "1",
            "reliability": "1",
            "choice": "1",
            "value": "1",
            "title": "Terrible",
            "body": "I never used them but I want to post this anyway.",
        },
        headers={"Referer": f"{page.url}"},
    )
    assert refused.status == 403
    assert not Review.objects.exists()
