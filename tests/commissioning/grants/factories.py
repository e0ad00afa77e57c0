"""Factories for Innovation Fund records."""

from datetime import timedelta

import factory

from django.utils import timezone

from commissioning.grants.models import (
    Application,
    ApplicationForm,
    ApplicationStatus,
    Criterion,
    DevelopmentArea,
    Fund,
    Question,
    QuestionKind,
    Round,
)
from tests.factories import OrganisationFactory


class FundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Fund
        django_get_or_create = ("slug",)

    name = "Innovation Fund"
    slug = "innovation-fund"


class ApplicationFormFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApplicationForm
        skip_postgeneration_save = True

    name = "Innovation Fund application"

    @factory.post_generation
    def questions(obj, create, extracted, **kwargs):
        if not create:
            return
        Question.objects.create(
            form=obj,
            key="need",
            label="What need will the project meet?",
            sort_order=0,
            kind=QuestionKind.LONG_TEXT,
            max_words=300,
        )
        Question.objects.create(
            form=obj,
            key="people",
            label="How many people will benefit?",
            sort_order=1,
            kind=QuestionKind.NUMBER,
        )


class RoundFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Round
        skip_postgeneration_save = True

    fund = factory.SubFactory(FundFactory)
    title = factory.Sequence(lambda n: f"Round {n}")
    slug = factory.Sequence(lambda n: f"round-{n}")
    opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=10))
    closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=20))
    budget_pence = 200_000_00
    max_award_pence = 25_000_00
    form = factory.SubFactory(ApplicationFormFactory)
    grant_starts_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=60))
    grant_ends_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=425))

    @factory.post_generation
    def criteria(obj, create, extracted, **kwargs):
        if not create:
            return
        Criterion.objects.create(
            round=obj, name="Makes support more personal", max_score=5, sort_order=0
        )
        Criterion.objects.create(round=obj, name="Value for money", max_score=5, sort_order=1)


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    round = factory.SubFactory(RoundFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    title = "Befriending pilot"
    development_area = DevelopmentArea.SOCIAL_CAPITAL
    amount_requested_pence = 15_000_00
    summary = "Volunteers visit lunch club members at home between sessions."
    answers = factory.LazyFunction(lambda: {"need": "Loneliness between sessions.", "people": "40"})
    status = ApplicationStatus.DRAFT
