"""Reviews of providers by the people who use them, and the ratings they add up to.

A review is written by a budget holder, or by a proxy on their behalf, and is
verified by a purchase from the provider. It is moderated and de-identified,
shown to the provider for a reply window, then published. See services.py
for the rules.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from marketplace.accounts.models import BudgetHolder
from marketplace.payments.models import Purchase
from marketplace.providers.models import Organisation


class ReviewStatus(models.TextChoices):
    SUBMITTED = "submitted", "Waiting for moderation"
    AWAITING_REPLY = "awaiting_reply", "Waiting for the provider's reply"
    PUBLISHED = "published", "Published"
    WITHHELD = "withheld", "Withheld"


class WithholdReason(models.TextChoices):
    """The only reasons a review may be withheld. Being negative is not one of them."""

    PERSONAL_DATA = "personal_data", "It contains personal data that cannot be removed"
    DEFAMATION = "defamation", "It makes a defamatory claim about a named person"
    ABUSE = "abuse", "It is abusive, threatening or discriminatory"
    NOT_ABOUT_SERVICE = "not_about_service", "It is not about this provider's service"


class ReportReason(models.TextChoices):
    PERSONAL_DATA = "personal_data", "It shows someone's personal details"
    DEFAMATION = "defamation", "It says something untrue and damaging about a person"
    ABUSE = "abuse", "It is abusive, threatening or discriminatory"
    NOT_ABOUT_SERVICE = "not_about_service", "It is not about this provider's service"
    OTHER = "other", "Something else"


class ReportOutcome(models.TextChoices):
    KEPT = "kept", "Kept published"
    WITHHELD = "withheld", "Review withheld"


class AuthorRole(models.TextChoices):
    BUDGET_HOLDER = "budget_holder", "The person who uses the service"
    PROXY = "proxy", "Someone acting for the person"


RATING_VALIDATORS = [MinValueValidator(1), MaxValueValidator(5)]

# Field name, label. The order is the order on the form and the profile page.
DIMENSIONS: list[tuple[str, str]] = [
    ("dignity", "Treated with dignity and respect"),
    ("reliability", "Reliable and on time"),
    ("choice", "Listens and gives me choice"),
    ("value", "Value for money"),
]


class ReviewQuerySet(models.QuerySet):
    def published(self) -> "ReviewQuerySet":
        return self.filter(status=ReviewStatus.PUBLISHED)

    def counting_towards_limit(self) -> "ReviewQuerySet":
        """Reviews that use up a budget holder's one review per provider per period."""
        return self.exclude(status=ReviewStatus.WITHHELD)


class Review(models.Model):
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="reviews")
    service = models.ForeignKey(
        "providers.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reviews",
        help_text="The service it is about, if the person said.",
    )
    budget_holder = models.ForeignKey(
        BudgetHolder,
        on_delete=models.PROTECT,
        related_name="reviews",
        help_text="The person the review is about: the one who uses the service.",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="reviews_written",
        help_text="Who wrote it: the budget holder or a proxy acting for them.",
    )
    author_role = models.CharField(max_length=20, choices=AuthorRole.choices)
    purchase = models.ForeignKey(
        Purchase,
        on_delete=models.PROTECT,
        related_name="reviews",
        help_text="The purchase from this provider that shows the person used it.",
    )

    rating = models.PositiveSmallIntegerField("overall rating", validators=RATING_VALIDATORS)
    dignity = models.PositiveSmallIntegerField(
        "treated with dignity and respect", validators=RATING_VALIDATORS
    )
    reliability = models.PositiveSmallIntegerField(
        "reliable and on time", validators=RATING_VALIDATORS
    )
    choice = models.PositiveSmallIntegerField(
        "listens and gives me choice", validators=RATING_VALIDATORS
    )
    value = models.PositiveSmallIntegerField("value for money", validators=RATING_VALIDATORS)

    # What the person wrote, kept unchanged for audit; only moderators see it.
    title = models.CharField(max_length=120)
    body = models.TextField()
    # What the public and the provider see: the moderator's de-identified copy.
    public_title = models.CharField(max_length=120, blank=True)
    public_body = models.TextField(blank=True)

    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField()
    moderated_at = models.DateTimeField(null=True, blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_due_at = models.DateTimeField(
        null=True, blank=True, help_text="Published automatically at this time if not before."
    )
    published_at = models.DateTimeField(null=True, blank=True, db_index=True)
    withheld_reason = models.CharField(max_length=20, choices=WithholdReason.choices, blank=True)
    withheld_note = models.CharField(
        max_length=500, blank=True, help_text="For the moderation record: what in the review."
    )

    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reply_waived_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-submitted_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5)
                & Q(dignity__gte=1, dignity__lte=5)
                & Q(reliability__gte=1, reliability__lte=5)
                & Q(choice__gte=1, choice__lte=5)
                & Q(value__gte=1, value__lte=5),
                name="review_ratings_one_to_five",
            ),
            models.CheckConstraint(
                condition=~Q(status="withheld") | ~Q(withheld_reason=""),
                name="review_withheld_has_reason",
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "status", "published_at"]),
            models.Index(fields=["budget_holder", "organisation", "submitted_at"]),
            models.Index(fields=["status", "reply_due_at"]),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} of {self.organisation}"

    @property
    def dimension_values(self) -> list[tuple[str, int]]:
        return [(label, getattr(self, name)) for name, label in DIMENSIONS]


class ReviewReport(models.Model):
    """Someone (signed in or not) thinks a published review should not be there."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reason = models.CharField(max_length=20, choices=ReportReason.choices)
    details = models.TextField(blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=10, choices=ReportOutcome.choices, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["resolved_at", "created_at"])]

    def __str__(self) -> str:
        return f"Report on review {self.review_id}: {self.get_reason_display()}"


class OrganisationRating(models.Model):
    """Published-review totals for one organisation, kept in step with every publish.

    Denormalised so search indexing and the ORUK API read a provider's rating
    with one row. ``smoothed_rating`` is the Bayesian average described in
    selectors.py, computed against the borough-wide mean at the time of the
    last change to this organisation; ``rating_summaries_refresh`` recomputes
    every row against today's borough mean.
    """

    organisation = models.OneToOneField(
        Organisation, on_delete=models.CASCADE, primary_key=True, related_name="rating"
    )
    review_count = models.PositiveIntegerField(default=0)
    rating_total = models.PositiveIntegerField(default=0)
    dignity_total = models.PositiveIntegerField(default=0)
    reliability_total = models.PositiveIntegerField(default=0)
    choice_total = models.PositiveIntegerField(default=0)
    value_total = models.PositiveIntegerField(default=0)
    smoothed_rating = models.DecimalField(
        max_digits=4, decimal_places=3, null=True, blank=True, db_index=True
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.organisation}: {self.review_count} reviews"
