"""Writes for reviews: submit, moderate, reply, publish, withhold, report.

The life of a review:

    submitted --(moderator de-identifies)--> awaiting reply --(provider replies,
    provider waives, or 7 days pass)--> published

and a moderator may withhold it at any point, but only for a reason from
``WithholdReason`` (personal data, defamation, abuse, not about this
service). Being negative is never a reason, and the de-identified text must
keep what the person said (``deidentify.substance_kept``).

Who may review (``review_submit``): the budget holder, or a proxy whose
current delegation allows reviews, when the budget holder has a purchase
from the organisation dated in the last 365 days, with a positive amount,
matched to the organisation (see ``selectors.verified_purchase``). One review
per budget holder per organisation in any 365 days, whoever writes it: a
review counts from the day it is submitted until 365 days later, unless a
moderator withheld it (then the person may write again).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Sum
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from marketplace.accounts.audit import audit_record
from marketplace.accounts.models import AuditAction, BudgetHolder, User
from marketplace.accounts.permissions import Scope, can_act_for
from marketplace.accounts.roles import Role
from marketplace.providers.models import Membership, Organisation, Service

from .deidentify import substance_kept
from .models import (
    AuthorRole,
    OrganisationRating,
    ReportOutcome,
    ReportReason,
    Review,
    ReviewReport,
    ReviewStatus,
    WithholdReason,
)
from .selectors import (
    DEFAULT_BOROUGH_MEAN,
    review_eligibility,
    smoothed_rating,
)

REPLY_WINDOW = timedelta(days=7)


class ReviewError(Exception):
    """A review action that the rules do not allow; the message is for the person."""


class ReviewNotAllowed(ReviewError):
    """The person may not write (or act on) this review: views answer 403 or 404."""


def _now() -> datetime:
    return timezone.now()


def _is_moderator(user: User) -> bool:
    return user.has_role(Role.CMS_EDITOR, Role.ADMINISTRATOR)


def _require_moderator(user: User) -> None:
    if not _is_moderator(user):
        raise ReviewNotAllowed("Only the council's content moderators can moderate reviews.")


def _require_provider_staff(user: User, organisation: Organisation) -> None:
    if not Membership.objects.filter(user=user, organisation=organisation).exists():
        raise ReviewNotAllowed("Only staff of this provider can reply to its reviews.")


def _locked(review: Review) -> Review:
    return Review.objects.select_for_update().get(pk=review.pk)


# --- Submitting --------------------------------------------------------------


@transaction.atomic
def review_submit(
    *,
    author: User,
    budget_holder: BudgetHolder,
    organisation: Organisation,
    rating: int,
    dignity: int,
    reliability: int,
    choice: int,
    value: int,
    title: str,
    body: str,
    service: Service | None = None,
    ip_address: str | None = None,
) -> Review:
    """Record a review for moderation, or raise ReviewNotAllowed with the reason.

    Guarantees: the author is the budget holder or their current proxy with
    ``may_review``; a verified purchase exists (the newest one is linked);
    no other review of this organisation for this budget holder counts in
    the period (the budget holder row is locked, so two people acting for
    the same person at once cannot both succeed). Every rating is 1 to 5.
    """
    if not can_act_for(author, budget_holder, Scope.REVIEW):
        raise ReviewNotAllowed(
            "You can only write a review for yourself, or for someone who has said you may "
            "write reviews for them."
        )
    BudgetHolder.objects.select_for_update().filter(pk=budget_holder.pk).first()
    eligibility = review_eligibility(budget_holder=budget_holder, organisation=organisation)
    if not eligibility.allowed:
        raise ReviewNotAllowed(eligibility.reason)
    ratings = {
        "rating": rating,
        "dignity": dignity,
        "reliability": reliability,
        "choice": choice,
        "value": value,
    }
    for score in ratings.values():
        if not isinstance(score, int) or not 1 <= score <= 5:
            raise ReviewError("Each rating must be from 1 to 5 stars.")
    if service is not None and service.organisation_id != organisation.pk:
        raise ReviewError("Choose one of this provider's services.")
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise ReviewError("Give your review a title and say what happened.")
    review = Review.objects.create(
        organisation=organisation,
        budget_holder=budget_holder,
        author=author,
        author_role=(
            AuthorRole.BUDGET_HOLDER if budget_holder.user_id == author.pk else AuthorRole.PROXY
        ),
        purchase=eligibility.purchase,
        service=service,
        title=title,
        body=body,
        submitted_at=_now(),
        **ratings,
    )
    audit_record(
        actor=author,
        action=AuditAction.CREATED,
        obj=review,
        budget_holder=budget_holder,
        summary=f"Review {review.pk} of {organisation.name} submitted",
        ip_address=ip_address,
    )
    return review


# --- Moderating --------------------------------------------------------------


def _provider_notify(review: Review) -> None:
    """Email the provider's staff, after commit, that a review is waiting for their reply."""
    recipients = list(
        Membership.objects.filter(organisation=review.organisation)
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    )
    if not recipients:
        return
    body = render_to_string(
        "reviews/email/awaiting_reply.txt",
        {
            "review": review,
            "reviews_url": settings.WAGTAILADMIN_BASE_URL.rstrip("/") + reverse("reviews:provider"),
        },
    )
    subject = f"A new review of {review.organisation.name} is waiting for your reply"
    transaction.on_commit(lambda: send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients))


@transaction.atomic
def review_approve(
    *,
    review: Review,
    moderator: User,
    public_title: str,
    public_body: str,
    ip_address: str | None = None,
) -> Review:
    """Accept the de-identified text and start the provider's 7-day reply window.

    Guarantees: only a moderator; only a review waiting for moderation; the
    public title and text are the original with nothing but short passages
    replaced by "[... removed]" markers (ReviewError otherwise). The original
    is kept unchanged. The provider's staff are emailed after commit. The
    review is published automatically when ``reply_due_at`` passes
    (``reviews_publish_due``).
    """
    _require_moderator(moderator)
    review = _locked(review)
    if review.status != ReviewStatus.SUBMITTED:
        raise ReviewError("This review has already been moderated.")
    public_title, public_body = public_title.strip(), public_body.strip()
    if not substance_kept(original=review.title, edited=public_title) or not substance_kept(
        original=review.body, edited=public_body
    ):
        raise ReviewError(
            "The published text must keep what the person said. Only replace names, contact "
            "details and addresses with a marker such as [name removed]. If the review cannot "
            "be published, withhold it for one of the listed reasons."
        )
    now = _now()
    review.public_title = public_title
    review.public_body = public_body
    review.status = ReviewStatus.AWAITING_REPLY
    review.moderated_at = now
    review.moderated_by = moderator
    review.reply_due_at = now + REPLY_WINDOW
    review.save()
    _provider_notify(review)
    audit_record(
        actor=moderator,
        action=AuditAction.CHANGED,
        obj=review,
        budget_holder=review.budget_holder,
        summary=f"Review {review.pk} de-identified and sent to the provider",
        changed_fields=["public_title", "public_body", "status"],
        ip_address=ip_address,
    )
    return review


@transaction.atomic
def review_withhold(
    *,
    review: Review,
    moderator: User,
    reason: str,
    note: str = "",
    ip_address: str | None = None,
) -> Review:
    """Withhold a review (before or after publication) for a reason from the fixed list.

    Guarantees: only a moderator; ``reason`` must be a WithholdReason value
    (there is no "other"); the reason and the moderator are recorded; if the
    review was published, the organisation's rating drops it in the same
    transaction. The original text is kept.
    """
    _require_moderator(moderator)
    if reason not in WithholdReason.values:
        raise ReviewError(
            "Choose why the review is being withheld. A review cannot be withheld for being "
            "negative or critical."
        )
    review = _locked(review)
    if review.status == ReviewStatus.WITHHELD:
        raise ReviewError("This review is already withheld.")
    was_published = review.status == ReviewStatus.PUBLISHED
    review.status = ReviewStatus.WITHHELD
    review.withheld_reason = reason
    review.withheld_note = note.strip()[:500]
    review.moderated_at = _now()
    review.moderated_by = moderator
    review.save()
    if was_published:
        organisation_rating_refresh(organisation=review.organisation)
    audit_record(
        actor=moderator,
        action=AuditAction.CHANGED,
        obj=review,
        budget_holder=review.budget_holder,
        summary=f"Review {review.pk} withheld: {WithholdReason(reason).label}",
        changed_fields=["status", "withheld_reason"],
        ip_address=ip_address,
    )
    return review


# --- Provider reply and publishing -------------------------------------------


@transaction.atomic
def review_reply(*, review: Review, user: User, text: str) -> Review:
    """The provider's public reply. Publishes the review now if it was waiting for it.

    Guarantees: only staff (a Membership) of the reviewed organisation; only
    a review the provider may see (waiting for a reply or published) with no
    reply yet; the reply is not empty.
    """
    _require_provider_staff(user, review.organisation)
    review = _locked(review)
    if review.status not in (ReviewStatus.AWAITING_REPLY, ReviewStatus.PUBLISHED):
        raise ReviewNotAllowed("This review is not open for a reply.")
    if review.replied_at is not None:
        raise ReviewError("You have already replied to this review.")
    text = text.strip()
    if not text:
        raise ReviewError("Enter your reply.")
    review.reply = text
    review.replied_at = _now()
    review.replied_by = user
    review.save(update_fields=["reply", "replied_at", "replied_by"])
    if review.status == ReviewStatus.AWAITING_REPLY:
        _publish(review)
    return review


@transaction.atomic
def review_waive_reply(*, review: Review, user: User) -> Review:
    """The provider does not want to reply: publish now instead of at the end of the window."""
    _require_provider_staff(user, review.organisation)
    review = _locked(review)
    if review.status != ReviewStatus.AWAITING_REPLY:
        raise ReviewNotAllowed("This review is not waiting for your reply.")
    review.reply_waived_at = _now()
    review.save(update_fields=["reply_waived_at"])
    _publish(review)
    return review


def _publish(review: Review) -> None:
    review.status = ReviewStatus.PUBLISHED
    review.published_at = _now()
    review.save(update_fields=["status", "published_at"])
    organisation_rating_refresh(organisation=review.organisation)


@transaction.atomic
def reviews_publish_due(*, now: datetime | None = None) -> int:
    """Publish every review whose reply window has ended; returns how many.

    Guarantees: each review is published once (rows are locked and
    re-checked), and each affected organisation's rating is refreshed in the
    same transaction.
    """
    now = now or _now()
    due = list(
        Review.objects.select_for_update(skip_locked=True)
        .filter(status=ReviewStatus.AWAITING_REPLY, reply_due_at__lte=now)
        .order_by("pk")
        .values_list("pk", "organisation_id")
    )
    if not due:
        return 0
    Review.objects.filter(pk__in=[pk for pk, _ in due]).update(
        status=ReviewStatus.PUBLISHED, published_at=now
    )
    organisation_ratings_refresh(organisation_ids=[org_id for _, org_id in due])
    return len(due)


# --- Reports -----------------------------------------------------------------


@transaction.atomic
def review_report(
    *, review: Review, reason: str, details: str = "", reporter: User | None = None
) -> ReviewReport:
    """Anyone, signed in or not, may report a published review; it joins the moderation queue."""
    if review.status != ReviewStatus.PUBLISHED:
        raise ReviewNotAllowed("Only published reviews can be reported.")
    if reason not in ReportReason.values:
        raise ReviewError("Choose why you are reporting this review.")
    return ReviewReport.objects.create(
        review=review,
        reason=reason,
        details=details.strip(),
        reporter=reporter if reporter is not None and reporter.is_authenticated else None,
    )


@transaction.atomic
def report_resolve(
    *,
    report: ReviewReport,
    moderator: User,
    withhold_reason: str = "",
    note: str = "",
    ip_address: str | None = None,
) -> ReviewReport:
    """Close a report: keep the review, or withhold it for a listed reason.

    Guarantees: only a moderator; withholding follows ``review_withhold``;
    every open report on the same review is closed with the same outcome.
    """
    _require_moderator(moderator)
    if withhold_reason:
        review_withhold(
            review=report.review,
            moderator=moderator,
            reason=withhold_reason,
            note=note,
            ip_address=ip_address,
        )
        outcome = ReportOutcome.WITHHELD
    else:
        outcome = ReportOutcome.KEPT
    ReviewReport.objects.filter(review=report.review, resolved_at__isnull=True).update(
        resolved_at=_now(), resolved_by=moderator, outcome=outcome
    )
    report.refresh_from_db()
    return report


# --- Ratings -----------------------------------------------------------------


def organisation_rating_refresh(*, organisation: Organisation) -> OrganisationRating:
    """Recompute one organisation's totals and smoothed rating from its published reviews.

    Runs inside the caller's transaction (publish or withhold), so the
    summary never disagrees with the reviews. Saving the row is what queues
    search re-indexing of the organisation's services after commit (search
    listens for OrganisationRating saves, search/signals.py).
    """
    return organisation_ratings_refresh(organisation_ids=[organisation.pk])[organisation.pk]


_TOTALS = {
    "count": Count("pk"),
    "rating": Sum("rating"),
    "dignity": Sum("dignity"),
    "reliability": Sum("reliability"),
    "choice": Sum("choice"),
    "value": Sum("value"),
}


def organisation_ratings_refresh(*, organisation_ids: list[int]) -> dict[int, OrganisationRating]:
    """``organisation_rating_refresh`` for many organisations with a fixed number of reads.

    The borough mean is taken once, from the other organisations' rows plus
    these organisations' new totals. Other organisations keep the smoothed
    value computed at their own last change; ``rating_summaries_refresh``
    (nightly) evens them up.
    """
    ids = sorted(set(organisation_ids))
    grouped = {
        group["organisation_id"]: group
        for group in Review.objects.published()
        .filter(organisation_id__in=ids)
        .values("organisation_id")
        .annotate(**_TOTALS)
    }
    rows = OrganisationRating.objects.select_for_update().in_bulk(ids)
    for pk in ids:
        row = rows.get(pk) or OrganisationRating(organisation_id=pk)
        totals = grouped.get(pk, {})
        row.review_count = totals.get("count") or 0
        row.rating_total = totals.get("rating") or 0
        row.dignity_total = totals.get("dignity") or 0
        row.reliability_total = totals.get("reliability") or 0
        row.choice_total = totals.get("choice") or 0
        row.value_total = totals.get("value") or 0
        rows[pk] = row
    others = OrganisationRating.objects.exclude(organisation_id__in=ids).aggregate(
        total=Sum("rating_total"), count=Sum("review_count")
    )
    borough_total = (others["total"] or 0) + sum(row.rating_total for row in rows.values())
    borough_count = (others["count"] or 0) + sum(row.review_count for row in rows.values())
    borough_mean = (
        Decimal(borough_total) / Decimal(borough_count) if borough_count else DEFAULT_BOROUGH_MEAN
    )
    for row in rows.values():
        row.smoothed_rating = smoothed_rating(
            total=row.rating_total, count=row.review_count, borough_mean=borough_mean
        )
        # One save each, not bulk_update, so search hears about every change.
        row.save()
    return rows


@transaction.atomic
def rating_summaries_refresh() -> int:
    """Rebuild every organisation's totals from published reviews, then every smoothed
    rating against today's borough mean. For the demo loader and a nightly run; returns
    the number of organisations rated."""
    grouped = (
        Review.objects.published()
        .values("organisation_id")
        .annotate(
            count=Count("pk"),
            rating=Sum("rating"),
            dignity=Sum("dignity"),
            reliability=Sum("reliability"),
            choice=Sum("choice"),
            value=Sum("value"),
        )
    )
    rows = [
        OrganisationRating(
            organisation_id=group["organisation_id"],
            review_count=group["count"],
            rating_total=group["rating"],
            dignity_total=group["dignity"],
            reliability_total=group["reliability"],
            choice_total=group["choice"],
            value_total=group["value"],
        )
        for group in grouped
    ]
    total = sum(row.rating_total for row in rows)
    count = sum(row.review_count for row in rows)
    mean = Decimal(total) / Decimal(count) if count else DEFAULT_BOROUGH_MEAN
    for row in rows:
        row.smoothed_rating = smoothed_rating(
            total=row.rating_total, count=row.review_count, borough_mean=mean
        )
    OrganisationRating.objects.all().delete()
    OrganisationRating.objects.bulk_create(rows, batch_size=1000)
    # Bulk writes send no signals: every cached provider profile shows a rating.
    from search.profile_cache import profiles_all_changed

    profiles_all_changed()
    return len(rows)
