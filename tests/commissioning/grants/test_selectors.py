from datetime import timedelta

import pytest

from django.utils import timezone

from commissioning.grants.models import RiskLevel
from commissioning.grants.selectors import project_rag, projects_for_organisation

pytestmark = pytest.mark.django_db


def test_rag_is_green_amber_then_red_as_a_report_gets_later(award):
    report = award.reports.order_by("due_on").first()
    due = report.due_on
    assert project_rag(award=award, today=due).rag == RiskLevel.GREEN
    assert project_rag(award=award, today=due + timedelta(days=14)).rag == RiskLevel.AMBER
    late = project_rag(award=award, today=due + timedelta(days=15))
    assert late.rag == RiskLevel.RED
    assert "15 days overdue" in late.reasons[0]


def test_a_red_risk_in_the_latest_report_makes_the_project_red(award):
    report = award.reports.order_by("due_on").first()
    report.submitted_at = timezone.now()
    report.risk_level = RiskLevel.RED
    report.save()
    assert project_rag(award=award, today=report.due_on).rag == RiskLevel.RED


def test_profile_lists_projects_only_once_the_agreement_is_accepted(award):
    organisation = award.application.organisation
    assert projects_for_organisation(organisation=organisation) == []
    award.agreement_accepted_at = timezone.now()
    award.save()
    [project] = projects_for_organisation(organisation=organisation)
    assert project["title"] == "Befriending pilot"
    assert project["amount_pence"] == 15_000_00
