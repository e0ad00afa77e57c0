"""The demo seeder writes reviews only where a verified purchase exists, in a realistic mix."""

import random
from datetime import timedelta

import pytest

from django.utils import timezone

from cms.demo import DemoContext
from marketplace.reviews import demo
from marketplace.reviews.models import OrganisationRating, Review, ReviewStatus
from tests.factories import BudgetHolderFactory, OrganisationFactory, UserFactory

from .factories import PurchaseFactory

pytestmark = pytest.mark.django_db


def context() -> DemoContext:
    return DemoContext(scale=1, today=timezone.localdate(), rng=random.Random(7), password="x")


def test_seeder_copes_with_no_purchases():
    demo.seed(context())
    assert not Review.objects.exists()


def test_seeder_reviews_only_verified_pairs_with_a_mix_of_outcomes():
    organisations = OrganisationFactory.create_batch(6)
    old_only = OrganisationFactory()
    for number in range(120):
        holder = BudgetHolderFactory(user=UserFactory())
        PurchaseFactory(
            budget_holder=holder,
            organisation=organisations[number % 6],
            occurred_on=timezone.localdate() - timedelta(days=20 + number % 200),
        )
        PurchaseFactory(
            budget_holder=holder,
            organisation=old_only,
            occurred_on=timezone.localdate() - timedelta(days=400),
        )
    demo.seed(context())
    reviews = Review.objects.all()
    assert 40 < reviews.count() <= 120
    assert not reviews.filter(organisation=old_only).exists()
    statuses = set(reviews.values_list("status", flat=True))
    assert statuses == set(ReviewStatus.values)
    assert reviews.filter(status=ReviewStatus.PUBLISHED, rating__lte=2).exists()
    assert not reviews.filter(status=ReviewStatus.WITHHELD, withheld_reason="").exists()
    for review in reviews.select_related("purchase"):
        assert review.submitted_at.date() >= review.purchase.occurred_on
        assert review.purchase.organisation_id == review.organisation_id
    rated = OrganisationRating.objects.get(organisation=organisations[0])
    assert (
        rated.review_count
        == reviews.filter(organisation=organisations[0], status=ReviewStatus.PUBLISHED).count()
    )
    assert rated.smoothed_rating is not None
