"""The rules for who may review, moderation, the reply window and ratings."""

from datetime import date, timedelta
from io import StringIO

import pytest

from django.core.management import call_command
from django.utils import timezone

from marketplace.accounts.models import AuditEvent
from marketplace.accounts.roles import Role
from marketplace.payments.models import MatchStatus
from marketplace.reviews.models import ReportOutcome, ReviewReport, ReviewStatus, WithholdReason
from marketplace.reviews.selectors import (
    rating_summaries,
    rating_summary,
    review_eligibility_for_user,
)
from marketplace.reviews.services import (
    ReviewError,
    ReviewNotAllowed,
    report_resolve,
    review_approve,
    review_reply,
    review_report,
    review_submit,
    review_waive_reply,
    review_withhold,
    reviews_publish_due,
)
from tests.factories import (
    BudgetHolderFactory,
    DelegationFactory,
    MembershipFactory,
    OrganisationFactory,
    UserFactory,
    user_with_role,
)

from .factories import PurchaseFactory, ReviewFactory

pytestmark = pytest.mark.django_db

GOOD = {"rating": 2, "dignity": 3, "reliability": 1, "choice": 2, "value": 3}


def submit(author, holder, organisation, **overrides):
    fields = {
        **GOOD,
        "title": "Often late",
        "body": "Carers arrived an hour late on most mornings and nobody phoned.",
    }
    fields.update(overrides)
    return review_submit(author=author, budget_holder=holder, organisation=organisation, **fields)


def holder_with_account():
    user = UserFactory()
    return user, BudgetHolderFactory(user=user)


# --- Eligibility matrix --------------------------------------------------------------------


def test_budget_holder_with_recent_purchase_may_review():
    user, holder = holder_with_account()
    purchase = PurchaseFactory(budget_holder=holder)
    review = submit(user, holder, purchase.organisation)
    assert review.status == ReviewStatus.SUBMITTED
    assert review.purchase == purchase
    assert review.author_role == "budget_holder"
    assert AuditEvent.objects.filter(object_id=str(review.pk), action="created").exists()


def test_budget_holder_without_purchase_is_refused_with_reason():
    user, holder = holder_with_account()
    organisation = OrganisationFactory(name="Sunrise Care")
    with pytest.raises(ReviewNotAllowed, match="no payment to Sunrise Care"):
        submit(user, holder, organisation)


def test_purchase_older_than_twelve_months_does_not_verify():
    user, holder = holder_with_account()
    purchase = PurchaseFactory(
        budget_holder=holder, occurred_on=timezone.localdate() - timedelta(days=366)
    )
    with pytest.raises(ReviewNotAllowed):
        submit(user, holder, purchase.organisation)


def test_refund_or_unmatched_purchase_does_not_verify():
    user, holder = holder_with_account()
    organisation = OrganisationFactory()
    PurchaseFactory(budget_holder=holder, organisation=organisation, amount_pence=-4400)
    PurchaseFactory(
        budget_holder=holder, organisation=organisation, match_status=MatchStatus.UNMATCHED
    )
    with pytest.raises(ReviewNotAllowed):
        submit(user, holder, organisation)


def test_proxy_with_review_right_may_review_for_the_person():
    purchase = PurchaseFactory()
    delegation = DelegationFactory(budget_holder=purchase.budget_holder, may_review=True)
    review = submit(delegation.proxy, purchase.budget_holder, purchase.organisation)
    assert review.author == delegation.proxy
    assert review.author_role == "proxy"


def test_proxy_without_review_right_is_refused():
    purchase = PurchaseFactory()
    delegation = DelegationFactory(budget_holder=purchase.budget_holder, may_review=False)
    with pytest.raises(ReviewNotAllowed):
        submit(delegation.proxy, purchase.budget_holder, purchase.organisation)
    assert (
        review_eligibility_for_user(user=delegation.proxy, organisation=purchase.organisation) == []
    )


def test_proxy_whose_delegation_has_ended_is_refused():
    purchase = PurchaseFactory()
    delegation = DelegationFactory(
        budget_holder=purchase.budget_holder,
        starts_on=date(2020, 1, 1),
        ends_on=timezone.localdate() - timedelta(days=1),
    )
    with pytest.raises(ReviewNotAllowed):
        submit(delegation.proxy, purchase.budget_holder, purchase.organisation)


def test_stranger_cannot_review_for_someone_else():
    purchase = PurchaseFactory()
    with pytest.raises(ReviewNotAllowed):
        submit(UserFactory(), purchase.budget_holder, purchase.organisation)


def test_second_review_in_the_same_period_is_refused_even_by_a_proxy():
    user, holder = holder_with_account()
    purchase = PurchaseFactory(budget_holder=holder)
    PurchaseFactory(budget_holder=holder, organisation=purchase.organisation)
    submit(user, holder, purchase.organisation)
    delegation = DelegationFactory(budget_holder=holder)
    with pytest.raises(ReviewNotAllowed, match="one review each year"):
        submit(delegation.proxy, holder, purchase.organisation)
    with pytest.raises(ReviewNotAllowed):
        submit(user, holder, purchase.organisation)


def test_a_review_a_year_ago_no_longer_counts():
    user, holder = holder_with_account()
    purchase = PurchaseFactory(budget_holder=holder)
    ReviewFactory(
        purchase=purchase,
        status=ReviewStatus.PUBLISHED,
        submitted_at=timezone.now() - timedelta(days=366),
    )
    assert submit(user, holder, purchase.organisation).pk


def test_a_withheld_review_does_not_use_up_the_period():
    user, holder = holder_with_account()
    purchase = PurchaseFactory(budget_holder=holder)
    ReviewFactory(purchase=purchase, status=ReviewStatus.WITHHELD, withheld_reason="personal_data")
    assert submit(user, holder, purchase.organisation).pk


def test_ratings_outside_one_to_five_are_refused():
    user, holder = holder_with_account()
    purchase = PurchaseFactory(budget_holder=holder)
    with pytest.raises(ReviewError):
        submit(user, holder, purchase.organisation, rating=6)


# --- Moderation ----------------------------------------------------------------------------


@pytest.fixture
def moderator():
    return user_with_role(Role.CMS_EDITOR)


def test_approving_starts_a_seven_day_reply_window(moderator):
    review = ReviewFactory(body="Jo from the agency rang me on 07700 900123 about it. Good.")
    approved = review_approve(
        review=review,
        moderator=moderator,
        public_title=review.title,
        public_body="[name removed] from the agency rang me on [phone number removed] about it. Good.",
    )
    assert approved.status == ReviewStatus.AWAITING_REPLY
    assert approved.reply_due_at - approved.moderated_at == timedelta(days=7)
    approved.refresh_from_db()
    assert "07700" in approved.body  # the original is kept for audit
    assert "07700" not in approved.public_body


def test_moderator_cannot_rewrite_a_negative_review(moderator):
    review = ReviewFactory(
        title="Rude and late", body="The carers were rude and late every single day."
    )
    with pytest.raises(ReviewError, match="keep what the person said"):
        review_approve(
            review=review,
            moderator=moderator,
            public_title="Rude and late",
            public_body="The carers were late some days.",
        )
    with pytest.raises(ReviewError):
        review_approve(
            review=review,
            moderator=moderator,
            public_title="[name removed]",
            public_body="The carers were rude and late every single day.",
        )
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED


def test_negative_review_cannot_be_withheld_without_a_listed_reason(moderator):
    review = ReviewFactory(rating=1, title="Awful", body="They never turned up.")
    for reason in ["", "negative", "other", "too critical"]:
        with pytest.raises(ReviewError, match="cannot be withheld for being negative"):
            review_withhold(review=review, moderator=moderator, reason=reason)
    review.refresh_from_db()
    assert review.status == ReviewStatus.SUBMITTED
    review_withhold(review=review, moderator=moderator, reason=WithholdReason.ABUSE)
    review.refresh_from_db()
    assert review.status == ReviewStatus.WITHHELD
    assert review.withheld_reason == "abuse"


def test_non_moderator_cannot_moderate():
    review = ReviewFactory()
    for role in (Role.BUDGET_HOLDER, Role.PROVIDER_STAFF, Role.COMMISSIONER):
        with pytest.raises(ReviewNotAllowed):
            review_approve(
                review=review,
                moderator=user_with_role(role),
                public_title=review.title,
                public_body=review.body,
            )
        with pytest.raises(ReviewNotAllowed):
            review_withhold(review=review, moderator=user_with_role(role), reason="abuse")


# --- Provider reply and publishing ---------------------------------------------------------


def awaiting(**fields):
    now = timezone.now()
    return ReviewFactory(
        status=ReviewStatus.AWAITING_REPLY,
        moderated_at=now,
        reply_due_at=now + timedelta(days=7),
        **fields,
    )


def test_provider_reply_publishes_with_the_reply():
    review = awaiting(rating=2)
    staff = MembershipFactory(organisation=review.organisation).user
    review_reply(review=review, user=staff, text="We are sorry and have changed the rota.")
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED
    assert review.reply.startswith("We are sorry")
    summary = rating_summary(organisation=review.organisation)
    assert summary.count == 1 and summary.mean == 2


def test_another_provider_cannot_reply():
    review = awaiting()
    other_staff = MembershipFactory().user
    with pytest.raises(ReviewNotAllowed):
        review_reply(review=review, user=other_staff, text="Not us")
    with pytest.raises(ReviewNotAllowed):
        review_waive_reply(review=review, user=other_staff)
    review.refresh_from_db()
    assert review.status == ReviewStatus.AWAITING_REPLY and review.reply == ""


def test_provider_may_waive_the_window():
    review = awaiting()
    staff = MembershipFactory(organisation=review.organisation).user
    review_waive_reply(review=review, user=staff)
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED and review.reply_waived_at


def test_reviews_publish_when_the_window_ends_and_not_before():
    due = awaiting()
    due.reply_due_at = timezone.now() - timedelta(minutes=1)
    due.save()
    not_yet = awaiting()
    assert reviews_publish_due() == 1
    due.refresh_from_db()
    not_yet.refresh_from_db()
    assert due.status == ReviewStatus.PUBLISHED
    assert not_yet.status == ReviewStatus.AWAITING_REPLY
    assert rating_summary(organisation=due.organisation).count == 1
    # Eight days later the second one goes too, through the management command.
    out = StringIO()
    with pytest.MonkeyPatch.context() as patch:
        later = timezone.now() + timedelta(days=8)
        patch.setattr("marketplace.reviews.services._now", lambda: later)
        call_command("publish_due_reviews", stdout=out)
    not_yet.refresh_from_db()
    assert not_yet.status == ReviewStatus.PUBLISHED
    assert "Published 1 review." in out.getvalue()


def test_the_celery_task_publishes_due_reviews():
    from marketplace.reviews.tasks import publish_due_reviews

    review = awaiting()
    review.reply_due_at = timezone.now() - timedelta(hours=1)
    review.save()
    assert publish_due_reviews.delay().get() == 1
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED


# --- Reports -------------------------------------------------------------------------------


def test_anyone_may_report_a_published_review_and_a_moderator_resolves_it(moderator):
    review = ReviewFactory(status=ReviewStatus.PUBLISHED, published_at=timezone.now())
    from marketplace.reviews.services import organisation_rating_refresh

    organisation_rating_refresh(organisation=review.organisation)
    report = review_report(review=review, reason="personal_data", details="Names my mum")
    assert report.reporter is None
    assert ReviewReport.objects.filter(resolved_at__isnull=True).count() == 1
    report_resolve(report=report, moderator=moderator, withhold_reason="personal_data")
    review.refresh_from_db()
    report.refresh_from_db()
    assert review.status == ReviewStatus.WITHHELD
    assert report.outcome == ReportOutcome.WITHHELD
    assert rating_summary(organisation=review.organisation).count == 0


def test_report_can_be_kept_without_withholding(moderator):
    review = ReviewFactory(status=ReviewStatus.PUBLISHED, published_at=timezone.now())
    report = review_report(review=review, reason="other", reporter=UserFactory())
    report_resolve(report=report, moderator=moderator)
    review.refresh_from_db()
    assert review.status == ReviewStatus.PUBLISHED
    report.refresh_from_db()
    assert report.outcome == ReportOutcome.KEPT


def test_unpublished_review_cannot_be_reported():
    with pytest.raises(ReviewNotAllowed):
        review_report(review=ReviewFactory(), reason="abuse")


# --- Ratings -------------------------------------------------------------------------------


def publish_reviews(organisation, ratings):
    staff = MembershipFactory(organisation=organisation).user
    for rating in ratings:
        review = awaiting(purchase=PurchaseFactory(organisation=organisation), rating=rating)
        review_waive_reply(review=review, user=staff)


def test_one_five_star_review_does_not_top_a_provider_with_many_good_ones():
    one_review = OrganisationFactory()
    many_reviews = OrganisationFactory()
    mixed = OrganisationFactory()
    unrated = OrganisationFactory()
    publish_reviews(many_reviews, [5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4])
    publish_reviews(mixed, [1, 2, 3, 2, 3])
    publish_reviews(one_review, [5])
    summaries = rating_summaries(
        organisation_ids=[one_review.pk, many_reviews.pk, mixed.pk, unrated.pk]
    )
    assert summaries[one_review.pk].mean == 5
    assert summaries[many_reviews.pk].smoothed > summaries[one_review.pk].smoothed
    assert summaries[one_review.pk].smoothed > summaries[mixed.pk].smoothed
    # One review is pulled towards the borough mean, not left at 5.
    assert summaries[one_review.pk].smoothed < 4.5
    assert summaries[unrated.pk].count == 0 and summaries[unrated.pk].smoothed is None
    assert dict(summaries[many_reviews.pk].dimensions)["Value for money"] == 4


def test_provider_staff_are_emailed_when_a_review_waits_for_their_reply(
    moderator, mailoutbox, django_capture_on_commit_callbacks
):
    review = ReviewFactory(body="Good carers.")
    staff = MembershipFactory(organisation=review.organisation).user
    with django_capture_on_commit_callbacks(execute=True):
        review_approve(
            review=review, moderator=moderator, public_title=review.title, public_body=review.body
        )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == [staff.email]
    assert "/provider/reviews/" in mailoutbox[0].body
    assert review.organisation.name in mailoutbox[0].subject


def test_nightly_refresh_recomputes_ratings_against_the_new_borough_mean():
    from marketplace.reviews.tasks import refresh_ratings

    early, later = OrganisationFactory(), OrganisationFactory()
    publish_reviews(early, [5, 5])
    publish_reviews(later, [1, 1, 1, 1, 1, 1])
    # The early provider's score was set when the borough mean was 5.
    assert rating_summary(organisation=early).smoothed == 5
    assert refresh_ratings.delay().get() == 2
    refreshed = rating_summary(organisation=early)
    assert refreshed.count == 2 and refreshed.mean == 5
    assert refreshed.smoothed < 3  # pulled towards the new borough mean of 2
