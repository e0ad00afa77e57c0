from decimal import Decimal

import pytest

from django.utils import timezone

from commissioning.assessments.models import AssessmentStatus, StatementResponse
from commissioning.assessments.selectors import (
    assessment_comparison,
    assessment_scores,
    assessment_status_for_organisation,
)
from tests.factories import OrganisationFactory

from .factories import AssessmentFactory, FrameworkVersionFactory

pytestmark = pytest.mark.django_db


def rate(assessment, ratings):
    for statement, rating in zip(assessment.version.statements.all(), ratings, strict=True):
        StatementResponse.objects.create(assessment=assessment, statement=statement, rating=rating)


def agree(assessment, ratings):
    rate(assessment, ratings)
    assessment.status = AssessmentStatus.AGREED
    assessment.agreed_at = timezone.now()
    assessment.overall_score = assessment_scores(assessment=assessment)["overall"]
    assessment.save()


def test_profile_status_is_none_for_a_provider_that_never_started():
    assert assessment_status_for_organisation(organisation=OrganisationFactory()) is None


def test_profile_status_shows_agreed_score_and_version():
    assessment = AssessmentFactory()
    agree(assessment, [4, 3, 2, 3])
    status = assessment_status_for_organisation(organisation=assessment.organisation)
    assert status["status"] == "agreed"
    assert status["overall_score"] == Decimal("3.00")
    assert status["date"] == timezone.localdate()
    assert f"version {assessment.version.number}" in status["framework_version"]


def test_scores_per_section_and_overall():
    assessment = AssessmentFactory()
    rate(assessment, [4, 2, 1, 3])
    scores = assessment_scores(assessment=assessment)
    assert [s.score for s in scores["sections"]] == [4, 2, 1, 3]
    assert scores["overall"] == Decimal("2.50")
    assert scores["complete"] is True


def test_comparison_hidden_until_five_similar_providers():
    version = FrameworkVersionFactory()
    mine = AssessmentFactory(version=version)
    for _ in range(4):
        agree(AssessmentFactory(version=version), [2, 2, 2, 2])
    assert assessment_comparison(assessment=mine)["shown"] is False
    agree(AssessmentFactory(version=version), [4, 4, 4, 4])
    comparison = assessment_comparison(assessment=mine)
    assert comparison["shown"] is True
    assert comparison["size"] == 5
    assert comparison["overall"] == Decimal("2.40")
