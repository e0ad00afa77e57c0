"""Factories for reviews: a verified purchase and a review at any stage."""

from datetime import timedelta

import factory

from django.utils import timezone

from marketplace.payments.models import Channel, MatchStatus, Purchase
from marketplace.reviews.models import AuthorRole, Review, ReviewStatus
from tests.factories import BudgetHolderFactory, OrganisationFactory


class PurchaseFactory(factory.django.DjangoModelFactory):
    """A card purchase matched to a provider a month ago: enough to verify a review."""

    class Meta:
        model = Purchase

    budget_holder = factory.SubFactory(BudgetHolderFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    category = "home_care"
    amount_pence = 4400
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    channel = Channel.MARKETPLACE
    source_reference = factory.Sequence(lambda n: f"test-purchase-{n}")
    match_status = MatchStatus.MATCHED
    match_confidence = 100
    care_group = factory.SelfAttribute("budget_holder.care_group")
    postcode_district = "N3"
    sector = factory.SelfAttribute("organisation.sector")


class ReviewFactory(factory.django.DjangoModelFactory):
    """A review at any status; defaults to one waiting for moderation."""

    class Meta:
        model = Review

    purchase = factory.SubFactory(PurchaseFactory)
    organisation = factory.SelfAttribute("purchase.organisation")
    budget_holder = factory.SelfAttribute("purchase.budget_holder")
    author = None
    author_role = AuthorRole.BUDGET_HOLDER
    rating = 4
    dignity = 4
    reliability = 4
    choice = 4
    value = 4
    title = "Kind carers"
    body = "The carers were kind and arrived on time most days."
    public_title = factory.SelfAttribute("title")
    public_body = factory.SelfAttribute("body")
    status = ReviewStatus.SUBMITTED
    submitted_at = factory.LazyFunction(timezone.now)
