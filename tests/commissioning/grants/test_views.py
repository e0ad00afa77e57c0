"""Who may see what: providers their own, reviewers their assignments, officers manage."""

import pytest

from django.utils import timezone

from commissioning.grants.models import ApplicationStatus
from marketplace.accounts.roles import Role
from tests.conftest import sign_in
from tests.factories import MembershipFactory, user_with_role

from .factories import ApplicationFactory, RoundFactory

pytestmark = pytest.mark.django_db


def provider_client(client, application):
    membership = MembershipFactory(organisation=application.organisation)
    return sign_in(client, membership.user)


def test_a_provider_sees_its_own_application_but_not_another(client):
    mine = ApplicationFactory()
    theirs = ApplicationFactory(round=mine.round)
    provider_client(client, mine)
    assert client.get(f"/grants/applications/{mine.pk}/").status_code == 200
    assert client.get(f"/grants/applications/{theirs.pk}/").status_code == 404
    assert client.get(f"/grants/applications/{theirs.pk}/edit/").status_code == 404
    assert client.post(f"/grants/applications/{theirs.pk}/submit/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ApplicationStatus.DRAFT


def test_a_provider_applies_saves_a_draft_and_submits(client):
    round = RoundFactory()
    membership = MembershipFactory()
    sign_in(client, membership.user)
    page = client.get("/grants/")
    assert round.title in page.content.decode()
    response = client.post(
        f"/grants/rounds/{round.slug}/apply/", {"organisation": membership.organisation.pk}
    )
    application = membership.organisation.grant_applications.get()
    assert response.url == f"/grants/applications/{application.pk}/edit/"
    draft = {
        "title": "Befriending pilot",
        "development_area": "social_capital",
        "amount_requested": "15000",
        "summary": "",
        "q_need": "Loneliness",
        "save": "1",
    }
    client.post(f"/grants/applications/{application.pk}/edit/", draft)
    application.refresh_from_db()
    assert application.title == "Befriending pilot"
    assert application.amount_requested_pence == 15_000_00
    check = client.get(f"/grants/applications/{application.pk}/submit/")
    assert "Enter a project summary." in check.content.decode()
    draft.update(summary="Volunteers visit members at home.", q_people="40", submit="1")
    del draft["save"]
    response = client.post(f"/grants/applications/{application.pk}/edit/", draft)
    assert response.url == f"/grants/applications/{application.pk}/submit/"
    client.post(f"/grants/applications/{application.pk}/submit/")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED


def test_reviewers_see_only_applications_assigned_to_them(client):
    from commissioning.grants.services import reviewer_assign

    application = ApplicationFactory(
        status=ApplicationStatus.SUBMITTED, submitted_at=timezone.now()
    )
    other = ApplicationFactory(status=ApplicationStatus.SUBMITTED, submitted_at=timezone.now())
    reviewer = user_with_role(Role.GRANT_OFFICER)
    reviewer_assign(application=application, reviewer=reviewer, assigned_by=reviewer)
    sign_in(client, reviewer)
    listing = client.get("/grants/reviews/").content.decode()
    assert application.title in listing
    assert client.get(f"/grants/reviews/{application.pk}/").status_code == 200
    assert client.get(f"/grants/reviews/{other.pk}/").status_code == 404


def test_providers_and_the_public_cannot_manage_the_fund(client):
    application = ApplicationFactory(
        status=ApplicationStatus.SUBMITTED, submitted_at=timezone.now()
    )
    assert client.get("/grants/manage/").status_code == 302
    assert client.get("/grants/").status_code == 302
    provider_client(client, application)
    assert client.get("/grants/manage/").status_code == 403
    assert client.get(f"/grants/manage/applications/{application.pk}/").status_code == 403
    assert client.get(f"/grants/reviews/{application.pk}/").status_code == 403


def test_grant_officer_decides_and_the_applicant_sees_the_reasons(client_for):
    application = ApplicationFactory(
        status=ApplicationStatus.SUBMITTED, submitted_at=timezone.now()
    )
    officer_client, _ = client_for(Role.GRANT_OFFICER)
    assert officer_client.get("/grants/manage/").status_code == 200
    response = officer_client.post(
        f"/grants/manage/applications/{application.pk}/",
        {
            "determine": "1",
            "outcome": "approve",
            "reasons": "Clear need.",
            "amount": "15000",
            "first_tranche": "7500",
        },
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert [t.amount_pence for t in application.award.tranches.all()] == [7_500_00, 7_500_00]
    from django.test import Client

    applicant = provider_client(Client(), application)
    page = applicant.get(f"/grants/applications/{application.pk}/").content.decode()
    assert "Clear need." in page
    award_page = applicant.get(f"/grants/awards/{application.award.pk}/")
    assert "Accept the agreement" in award_page.content.decode()
    applicant.post(
        f"/grants/awards/{application.award.pk}/", {"confirm": "on", "full_name": "Jo Bloggs"}
    )
    application.award.refresh_from_db()
    assert application.award.agreement_accepted_name == "Jo Bloggs"


def test_grant_officers_edit_rounds_and_the_framework_in_wagtail(client_for):
    officer_client, officer = client_for(Role.GRANT_OFFICER)
    RoundFactory(title="Autumn round")
    listing = officer_client.get("/admin/snippets/grants/round/")
    assert listing.status_code == 200
    assert "Autumn round" in listing.content.decode()
    assert officer_client.get("/admin/snippets/grants/applicationform/add/").status_code == 200
    assert (
        officer_client.get("/admin/snippets/assessments/frameworkversion/add/").status_code == 200
    )
    provider_client, _ = client_for(Role.PROVIDER_STAFF)
    assert provider_client.get("/admin/snippets/grants/round/").status_code in (302, 403)


def test_dashboard_shows_a_project_amber_when_a_report_is_late(client_for, award):
    from datetime import timedelta

    from commissioning.grants import services as grant_services

    grant_services.agreement_accept(award=award, user=None, full_name="Jo", confirmed=True)
    first = award.reports.order_by("due_on").first()
    award.reports.filter(pk=first.pk).update(due_on=timezone.localdate() - timedelta(days=5))
    officer_client, _ = client_for(Role.GRANT_OFFICER)
    page = officer_client.get("/grants/manage/").content.decode()
    assert "is 5 days overdue" in page
    assert "govuk-tag--orange" in page
    overdue = officer_client.get("/grants/manage/overdue/").content.decode()
    assert award.application.title in overdue


def test_attachments_download_only_for_the_applicant_and_grant_officers(client, client_for, pdf):
    from commissioning.grants.services import attachment_add

    application = ApplicationFactory()
    attachment = attachment_add(application=application, title="Budget", file=pdf, user=None)
    url = f"/grants/attachments/{attachment.pk}/download/"
    provider_client(client, application)
    assert b"".join(client.get(url).streaming_content) == b"%PDF-1.4 test"
    other_client, _ = client_for(Role.PROVIDER_STAFF)
    assert other_client.get(url).status_code == 404
    officer_client, _ = client_for(Role.GRANT_OFFICER)
    assert officer_client.get(url).status_code == 200


def test_grant_officers_arriving_at_the_fund_go_to_their_dashboard(client_for):
    officer_client, _ = client_for(Role.GRANT_OFFICER)
    assert officer_client.get("/grants/").url == "/grants/manage/"
    assert officer_client.get("/assessments/").url == "/assessments/review/"
    budget_holder_client, _ = client_for(Role.BUDGET_HOLDER)
    assert budget_holder_client.get("/grants/").status_code == 403
