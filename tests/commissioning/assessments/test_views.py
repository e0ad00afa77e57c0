import pytest

from commissioning.assessments.models import AssessmentStatus, Section
from marketplace.accounts.roles import Role
from tests.conftest import sign_in
from tests.factories import MembershipFactory, user_with_role

from .factories import AssessmentFactory, FrameworkVersionFactory

pytestmark = pytest.mark.django_db


def test_a_provider_sees_only_its_own_assessments(client):
    mine = AssessmentFactory()
    theirs = AssessmentFactory(version=mine.version)
    sign_in(client, MembershipFactory(organisation=mine.organisation).user)
    assert client.get(f"/assessments/{mine.pk}/").status_code == 200
    assert client.get(f"/assessments/{theirs.pk}/").status_code == 404
    assert client.get(f"/assessments/{theirs.pk}/services/").status_code == 404
    assert client.post(f"/assessments/{theirs.pk}/submit/").status_code == 404
    assert client.get("/assessments/review/").status_code == 403
    assert client.get(f"/assessments/review/{mine.pk}/").status_code == 403


def test_a_provider_saves_a_section_and_comes_back_later(client):
    FrameworkVersionFactory()
    membership = MembershipFactory()
    sign_in(client, membership.user)
    response = client.post("/assessments/start/", {"organisation": membership.organisation.pk})
    assessment = membership.organisation.assessments.get()
    assert response.url == f"/assessments/{assessment.pk}/"
    statement = assessment.version.statements_in(Section.SERVICES)[0]
    p = f"s{statement.pk}"
    # A weak rating without an action is refused when continuing...
    page = client.post(
        f"/assessments/{assessment.pk}/services/", {f"{p}_rating": "2", "continue": "1"}
    )
    assert page.status_code == 200
    assert "needs an action" in page.content.decode()
    # ...but saved as it is to come back later.
    client.post(f"/assessments/{assessment.pk}/services/", {f"{p}_rating": "2", "later": "1"})
    assert assessment.responses.get(statement=statement).rating == 2
    detail = client.get(f"/assessments/{assessment.pk}/").content.decode()
    assert "1 of 1 statements rated" in detail


def test_council_reviewer_returns_a_section_with_a_comment(client):
    assessment = AssessmentFactory(status=AssessmentStatus.SUBMITTED)
    reviewer = user_with_role(Role.GRANT_OFFICER)
    sign_in(client, reviewer)
    data = {f"{s.value}_outcome": "agreed" for s in Section}
    data.update({"services_outcome": "returned", "services_comment": "Add examples."})
    response = client.post(f"/assessments/review/{assessment.pk}/", data)
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    assert assessment.returned_sections == ["services"]


def test_reviewers_do_not_see_assessments_still_in_progress(client):
    assessment = AssessmentFactory()
    sign_in(client, user_with_role(Role.GRANT_OFFICER))
    assert client.get(f"/assessments/review/{assessment.pk}/").status_code == 404


def test_directory_profile_include_shows_status_and_date(client):
    from django.template.loader import render_to_string

    assessment = AssessmentFactory(status=AssessmentStatus.SUBMITTED)
    html = render_to_string(
        "assessments/includes/profile_status.html", {"organisation": assessment.organisation}
    )
    assert "Submitted for review" in html
    assert str(assessment.started_at.year) in html


def test_evidence_downloads_only_for_the_provider_and_reviewers_after_submission(
    client, client_for
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from commissioning.assessments.services import evidence_add

    assessment = AssessmentFactory()
    evidence = evidence_add(
        assessment=assessment,
        section=Section.SERVICES,
        title="Menu",
        file=SimpleUploadedFile("menu.pdf", b"%PDF-1.4 menu"),
        user=None,
    )
    url = f"/assessments/evidence/{evidence.pk}/download/"
    sign_in(client, MembershipFactory(organisation=assessment.organisation).user)
    assert b"".join(client.get(url).streaming_content) == b"%PDF-1.4 menu"
    other_client, _ = client_for(Role.PROVIDER_STAFF)
    assert other_client.get(url).status_code == 404
    reviewer_client, _ = client_for(Role.GRANT_OFFICER)
    assert reviewer_client.get(url).status_code == 404
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.save()
    assert reviewer_client.get(url).status_code == 200
