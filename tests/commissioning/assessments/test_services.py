from datetime import date, timedelta

import pytest

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commissioning.assessments import services
from commissioning.assessments.models import (
    AssessmentStatus,
    FrameworkFrozen,
    ReassessmentReminder,
    Section,
    SectionOutcome,
    Statement,
    StatementMapping,
    VersionStatus,
)
from commissioning.assessments.selectors import assessment_progress
from marketplace.accounts.roles import Role
from tests.factories import MembershipFactory, user_with_role

from .factories import AssessmentFactory, FrameworkVersionFactory

pytestmark = pytest.mark.django_db


def answer_all(assessment, rating=3, **extra):
    for statement in assessment.version.statements.all():
        services.assessment_section_save(
            assessment=assessment,
            section=statement.section,
            answers={statement.pk: {"rating": rating, "evidence": "Feedback forms", **extra}},
            user=None,
        )


def test_a_used_published_version_is_frozen():
    version = FrameworkVersionFactory()
    statement = version.statements.first()
    statement.text = "Changed before anyone used it."
    statement.save()  # allowed: no assessment yet
    AssessmentFactory(version=version)
    statement.text = "Changed after use."
    with pytest.raises(FrameworkFrozen):
        statement.save()
    with pytest.raises(FrameworkFrozen):
        Statement.objects.create(version=version, section=Section.OUTCOMES, code="P9", text="New")
    with pytest.raises(FrameworkFrozen):
        statement.delete()
    version.notes = "Rewritten"
    with pytest.raises(FrameworkFrozen):
        version.save()
    version.refresh_from_db()
    version.status = VersionStatus.RETIRED
    version.save()  # retiring is the one change allowed


def test_a_draft_version_stays_editable_even_with_statements():
    version = FrameworkVersionFactory(status=VersionStatus.DRAFT)
    statement = version.statements.first()
    statement.text = "Redrafted"
    statement.save()
    assert Statement.objects.get(pk=statement.pk).text == "Redrafted"


def test_only_one_open_assessment_per_organisation():
    version = FrameworkVersionFactory()
    membership = MembershipFactory()
    first = services.assessment_start(
        organisation=membership.organisation, user=membership.user, version=version
    )
    again = services.assessment_start(
        organisation=membership.organisation, user=membership.user, version=version
    )
    assert first.pk == again.pk


def test_submitting_needs_every_rating_and_an_action_for_weak_ones():
    assessment = AssessmentFactory()
    with pytest.raises(services.AssessmentError) as error:
        services.assessment_submit(assessment=assessment, user=None)
    assert any("Rate statement" in m for m in error.value.messages)
    answer_all(assessment, rating=2)
    with pytest.raises(services.AssessmentError) as error:
        services.assessment_submit(assessment=assessment, user=None)
    assert any("Add an action" in m for m in error.value.messages)
    answer_all(
        assessment,
        rating=2,
        action_what="Train staff",
        action_who="Manager",
        action_by=date(2027, 3, 1),
    )
    services.assessment_submit(assessment=assessment, user=None)
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.SUBMITTED


def test_evidence_files_have_size_and_type_limits():
    assessment = AssessmentFactory()
    ok = SimpleUploadedFile("menu.pdf", b"%PDF-1.4")
    services.evidence_add(
        assessment=assessment, section=Section.SERVICES, title="Menu", file=ok, user=None
    )
    with pytest.raises(services.AssessmentError, match="must be a PDF"):
        services.evidence_add(
            assessment=assessment,
            section=Section.SERVICES,
            title="x",
            file=SimpleUploadedFile("x.exe", b"MZ"),
            user=None,
        )
    with pytest.raises(services.AssessmentError, match="10 MB"):
        services.evidence_add(
            assessment=assessment,
            section=Section.SERVICES,
            title="x",
            file=SimpleUploadedFile("x.pdf", b"0" * (10 * 1024 * 1024 + 1)),
            user=None,
        )


@pytest.mark.django_db(transaction=True)
def test_returned_section_is_editable_again_and_resubmission_is_agreed():
    reviewer = user_with_role(Role.GRANT_OFFICER)
    assessment = AssessmentFactory()
    member = MembershipFactory(organisation=assessment.organisation)
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=None)
    assert reviewer.email in mail.outbox[-1].to
    with pytest.raises(services.AssessmentError):
        services.assessment_section_save(
            assessment=assessment, section=Section.SERVICES, answers={}, user=None
        )
    services.assessment_review(
        assessment=assessment,
        reviewer=reviewer,
        sections={Section.SERVICES: (SectionOutcome.RETURNED, "Tell us how people choose staff.")},
    )
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.RETURNED
    assert assessment.section_editable(Section.SERVICES)
    assert not assessment.section_editable(Section.ORGANISATION)
    assert member.user.email in mail.outbox[-1].to
    statement = assessment.version.statements_in(Section.SERVICES)[0]
    services.assessment_section_save(
        assessment=assessment,
        section=Section.SERVICES,
        answers={statement.pk: {"rating": 4, "evidence": "People pick their own worker."}},
        user=None,
    )
    services.assessment_submit(assessment=assessment, user=None)
    services.assessment_review(assessment=assessment, reviewer=reviewer, sections={})
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.AGREED
    assert str(assessment.overall_score) == "3.25"


def test_returning_a_section_needs_a_comment():
    assessment = AssessmentFactory()
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=None)
    with pytest.raises(services.AssessmentError, match="Say why"):
        services.assessment_review(
            assessment=assessment,
            reviewer=None,
            sections={Section.OUTCOMES: (SectionOutcome.RETURNED, " ")},
        )


def test_progress_compares_mapped_statements_across_versions():
    old = FrameworkVersionFactory()
    new = FrameworkVersionFactory(framework=old.framework)
    for new_statement in new.statements.all():
        old_statement = old.statements.get(code=new_statement.code)
        StatementMapping.objects.create(
            version=new, statement=new_statement, previous_statement=old_statement
        )
    first = AssessmentFactory(version=old)
    answer_all(first, rating=3)
    services.assessment_submit(assessment=first, user=None)
    services.assessment_review(assessment=first, reviewer=None, sections={})
    second = AssessmentFactory(version=new, organisation=first.organisation)
    answer_all(second, rating=4)
    services.assessment_submit(assessment=second, user=None)
    services.assessment_review(assessment=second, reviewer=None, sections={})
    rows = assessment_progress(organisation=first.organisation)
    assert [str(r["scores"]["overall"]) for r in rows] == ["3.00", "4.00"]
    assert {(c["before"], c["after"]) for c in rows[1]["comparable"]} == {(3, 4)}
    assert len(rows[1]["comparable"]) == 4


@pytest.mark.django_db(transaction=True)
def test_yearly_reminder_to_reassess_is_sent_once():
    assessment = AssessmentFactory()
    member = MembershipFactory(organisation=assessment.organisation)
    answer_all(assessment)
    services.assessment_submit(assessment=assessment, user=None)
    services.assessment_review(assessment=assessment, reviewer=None, sections={})
    assert services.reassessment_reminders_send() == 0
    assessment.refresh_from_db()
    assessment.agreed_at = timezone.now() - timedelta(days=366)
    assessment.save()
    mail.outbox.clear()
    assert services.reassessment_reminders_send() == 1
    assert member.user.email in mail.outbox[0].to
    assert services.reassessment_reminders_send() == 0
    assert ReassessmentReminder.objects.count() == 1
