"""Reads for reviews: who may review, ratings, and the lists each screen shows.

Smoothed rating
---------------
A provider's smoothed rating is the Bayesian average

    smoothed = (PRIOR_WEIGHT * borough_mean + sum of overall ratings) / (PRIOR_WEIGHT + count)

where ``borough_mean`` is the mean overall rating of every published review
in the borough. PRIOR_WEIGHT = 5 means a provider's own reviews outweigh the
borough mean once it has more than five of them. With a borough mean of 3.8,
one 5-star review gives (5 * 3.8 + 5) / 6 = 4.0, below a provider with twenty
reviews averaging 4.5 ((19 + 90) / 25 = 4.36): one review cannot top the list.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from marketplace.accounts.models import BudgetHolder, Delegation, User
from marketplace.payments.models import MatchStatus, Purchase
from marketplace.providers.models import Membership, Organisation

from .models import (
    DIMENSIONS,
    OrganisationRating,
    Review,
    ReviewReport,
    ReviewStatus,
)

PRIOR_WEIGHT = 5
# Used as the borough mean before any review is published.
DEFAULT_BOROUGH_MEAN = Decimal("3.5")
# A purchase verifies a review for this many days, and a budget holder may
# review a provider once in any period of this many days.
REVIEW_PERIOD_DAYS = 365
REVIEWS_PER_PAGE = 10


# --- Ratings -----------------------------------------------------------------


@dataclass(frozen=True)
class RatingSummary:
    organisation_id: int
    count: int
    mean: Decimal | None
    smoothed: Decimal | None
    dimensions: list[tuple[str, Decimal | None]] = field(default_factory=list)

    @property
    def stars(self) -> str:
        """Five star characters for the rounded mean, for decoration beside the text."""
        if self.mean is None:
            return "☆☆☆☆☆"
        filled = int(self.mean.quantize(Decimal("1"), rounding=ROUND_HALF_UP))
        return "★" * filled + "☆" * (5 - filled)


def _mean(total: int, count: int) -> Decimal | None:
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def smoothed_rating(*, total: int, count: int, borough_mean: Decimal) -> Decimal | None:
    """The Bayesian average described at the top of this module (None with no reviews)."""
    if not count:
        return None
    value = (PRIOR_WEIGHT * borough_mean + Decimal(total)) / Decimal(PRIOR_WEIGHT + count)
    return value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def borough_mean_rating() -> Decimal:
    """The mean overall rating of every published review, from the summary table."""
    totals = OrganisationRating.objects.aggregate(
        total=Sum("rating_total"), count=Sum("review_count")
    )
    if not totals["count"]:
        return DEFAULT_BOROUGH_MEAN
    return Decimal(totals["total"]) / Decimal(totals["count"])


def _summary_from_row(organisation_id: int, row: OrganisationRating | None) -> RatingSummary:
    if row is None or not row.review_count:
        return RatingSummary(
            organisation_id=organisation_id,
            count=0,
            mean=None,
            smoothed=None,
            dimensions=[(label, None) for _, label in DIMENSIONS],
        )
    return RatingSummary(
        organisation_id=organisation_id,
        count=row.review_count,
        mean=_mean(row.rating_total, row.review_count),
        smoothed=row.smoothed_rating,
        dimensions=[
            (label, _mean(getattr(row, f"{name}_total"), row.review_count))
            for name, label in DIMENSIONS
        ],
    )


def rating_summary(*, organisation: Organisation) -> RatingSummary:
    """The organisation's summary; no query when its rating row was read with it
    (``select_related("rating")``, as the profile does)."""
    related = Organisation.rating.related
    if related.is_cached(organisation):
        row = related.get_cached_value(organisation)
    else:
        row = OrganisationRating.objects.filter(organisation=organisation).first()
    return _summary_from_row(organisation.pk, row)


def rating_summaries(*, organisation_ids: list[int]) -> dict[int, RatingSummary]:
    """One query for a page of search results; every id asked for gets a summary."""
    rows = OrganisationRating.objects.in_bulk(list(organisation_ids))
    return {pk: _summary_from_row(pk, rows.get(pk)) for pk in organisation_ids}


# --- Who may review ----------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Whether ``budget_holder`` may be reviewed for now, and why not if not."""

    budget_holder: BudgetHolder
    purchase: Purchase | None
    reason: str
    next_allowed_on: date | None = None

    @property
    def allowed(self) -> bool:
        return self.purchase is not None and not self.reason


def verified_purchase(
    *, budget_holder: BudgetHolder, organisation: Organisation, on: date | None = None
) -> Purchase | None:
    """The newest purchase that verifies a review: from this organisation, paid, in the period."""
    on = on or timezone.localdate()
    return (
        Purchase.objects.filter(
            budget_holder=budget_holder,
            organisation=organisation,
            amount_pence__gt=0,
            occurred_on__gte=on - timedelta(days=REVIEW_PERIOD_DAYS),
            occurred_on__lte=on,
            match_status__in=[MatchStatus.MATCHED, MatchStatus.CONFIRMED],
        )
        .order_by("-occurred_on", "-pk")
        .first()
    )


def previous_review_in_period(
    *, budget_holder: BudgetHolder, organisation: Organisation, on: date | None = None
) -> Review | None:
    on = on or timezone.localdate()
    since = timezone.make_aware(
        datetime.combine(on - timedelta(days=REVIEW_PERIOD_DAYS - 1), time.min)
    )
    return (
        Review.objects.counting_towards_limit()
        .filter(budget_holder=budget_holder, organisation=organisation, submitted_at__gte=since)
        .order_by("-submitted_at")
        .first()
    )


def review_eligibility(
    *, budget_holder: BudgetHolder, organisation: Organisation, on: date | None = None
) -> Eligibility:
    """Whether a review of ``organisation`` for ``budget_holder`` may be written today.

    Does not check who is asking: combine with ``can_act_for(user, holder, Scope.REVIEW)``
    (``people_to_review_for`` does).
    """
    on = on or timezone.localdate()
    name = budget_holder.display_name
    previous = previous_review_in_period(
        budget_holder=budget_holder, organisation=organisation, on=on
    )
    if previous is not None:
        again = timezone.localtime(previous.submitted_at).date() + timedelta(
            days=REVIEW_PERIOD_DAYS
        )
        return Eligibility(
            budget_holder=budget_holder,
            purchase=None,
            reason=(
                f"A review of {organisation.name} for {name} was sent on "
                f"{timezone.localtime(previous.submitted_at):%-d %B %Y}. "
                f"You can write one review each year, so the next can be written "
                f"from {again:%-d %B %Y}."
            ),
            next_allowed_on=again,
        )
    purchase = verified_purchase(budget_holder=budget_holder, organisation=organisation, on=on)
    if purchase is None:
        return Eligibility(
            budget_holder=budget_holder,
            purchase=None,
            reason=(
                f"There is no payment to {organisation.name} from {name}'s personal budget "
                f"in the last 12 months. Reviews can only be written by people who have used "
                f"a provider, so we check for a payment first."
            ),
        )
    return Eligibility(budget_holder=budget_holder, purchase=purchase, reason="")


def people_to_review_for(*, user: User, on: date | None = None) -> list[BudgetHolder]:
    """The user themself if they hold a budget, and everyone they may review for as a proxy."""
    if not user.is_authenticated:
        return []
    on = on or timezone.localdate()
    delegated = Delegation.objects.current(on).filter(proxy=user, may_review=True)
    return list(
        BudgetHolder.objects.filter(
            Q(user=user) | Q(pk__in=delegated.values("budget_holder_id"))
        ).order_by("full_name")
    )


def review_eligibility_for_user(
    *, user: User, organisation: Organisation, on: date | None = None
) -> list[Eligibility]:
    """One Eligibility for each person the user may review for (empty if none)."""
    return [
        review_eligibility(budget_holder=holder, organisation=organisation, on=on)
        for holder in people_to_review_for(user=user, on=on)
    ]


def user_may_review(*, user: User, organisation: Organisation) -> bool:
    """For showing a "Write a review" link: True if any person the user acts for is eligible."""
    return any(e.allowed for e in review_eligibility_for_user(user=user, organisation=organisation))


# --- Screens -----------------------------------------------------------------


def published_reviews(*, organisation: Organisation) -> QuerySet[Review]:
    return (
        Review.objects.published()
        .filter(organisation=organisation)
        .select_related("organisation", "service")
        .only(
            "pk",
            "organisation__name",
            "organisation__slug",
            "service__name",
            "author_role",
            "rating",
            "dignity",
            "reliability",
            "choice",
            "value",
            "public_title",
            "public_body",
            "published_at",
            "submitted_at",
            "reply",
            "replied_at",
            "status",
        )
        .order_by("-published_at", "-pk")
    )


@dataclass
class ProfileReviews:
    organisation: Organisation
    summary: RatingSummary
    page: Page
    may_review: bool | None


def reviews_for_profile(
    *,
    organisation: Organisation,
    page: int | str | None = 1,
    user: User | None = None,
    defer_may_review: bool = False,
) -> ProfileReviews:
    """What the profile page's reviews section shows: summary, one page of reviews, and
    whether ``user`` may write a review (False when no user is given; None with
    ``defer_may_review``, for a cached body that leaves that part to each visitor)."""
    summary = rating_summary(organisation=organisation)
    paginator = Paginator(published_reviews(organisation=organisation), REVIEWS_PER_PAGE)
    # The rating row counts the published reviews and is refreshed in the same
    # transaction as every publication or withdrawal: no COUNT over the reviews.
    paginator.__dict__["count"] = summary.count
    return ProfileReviews(
        organisation=organisation,
        summary=summary,
        page=paginator.get_page(page),
        may_review=None
        if defer_may_review
        else bool(user and user_may_review(user=user, organisation=organisation)),
    )


def reviews_for_moderation() -> QuerySet[Review]:
    return (
        Review.objects.filter(status=ReviewStatus.SUBMITTED)
        .select_related("organisation")
        .order_by("submitted_at")
    )


def reports_open() -> QuerySet[ReviewReport]:
    return (
        ReviewReport.objects.filter(resolved_at__isnull=True)
        .select_related("review", "review__organisation")
        .order_by("created_at")
    )


def organisations_for_provider_user(*, user: User) -> QuerySet[Organisation]:
    return Organisation.objects.filter(
        pk__in=Membership.objects.filter(user=user).values("organisation_id")
    )


def reviews_for_provider(*, user: User) -> QuerySet[Review]:
    """Reviews of the organisations the user works for that the provider may see:
    those waiting for a reply and those published. Never the original text."""
    return (
        Review.objects.filter(
            organisation__in=organisations_for_provider_user(user=user),
            status__in=[ReviewStatus.AWAITING_REPLY, ReviewStatus.PUBLISHED],
        )
        .select_related("organisation", "service")
        .order_by("status", "reply_due_at", "-published_at")
    )
