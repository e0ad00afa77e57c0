from datetime import timedelta

import pytest

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from commissioning.grants import services
from commissioning.grants.models import (
    ApplicationStatus,
    MonitoringReport,
    Outcome,
    PaymentMethod,
    ReportKind,
    ReviewerAssignment,
)
from commissioning.grants.selectors import application_scores, round_spend
from marketplace.accounts.roles import Role
from tests.factories import MembershipFactory, OrganisationFactory, user_with_role

from .factories import ApplicationFactory, RoundFactory

pytestmark = pytest.mark.django_db


def test_an_organisation_cannot_have_two_open_applications_in_a_round():
    membership = MembershipFactory()
    round = RoundFactory()
    services.application_start(
        round=round, organisation=membership.organisation, user=membership.user
    )
    with pytest.raises(services.GrantError, match="already has an application"):
        services.application_start(
            round=round, organisation=membership.organisation, user=membership.user
        )


def test_cannot_start_an_application_in_a_closed_round():
    membership = MembershipFactory()
    round = RoundFactory(
        opens_at=timezone.now() - timedelta(days=40), closes_at=timezone.now() - timedelta(days=1)
    )
    with pytest.raises(services.GrantError, match="not open"):
        services.application_start(
            round=round, organisation=membership.organisation, user=membership.user
        )


def test_submitting_after_the_deadline_is_refused():
    application = ApplicationFactory()
    round = application.round
    round.closes_at = timezone.now() - timedelta(minutes=1)
    round.save()
    with pytest.raises(services.GrantError) as error:
        services.application_submit(application=application, user=None)
    assert any("deadline" in m for m in error.value.messages)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT


def test_submitting_over_the_cap_or_without_required_answers_is_refused():
    application = ApplicationFactory(amount_requested_pence=30_000_00, answers={})
    with pytest.raises(services.GrantError) as error:
        services.application_submit(application=application, user=None)
    messages = " ".join(error.value.messages)
    assert "most you can ask for" in messages
    assert "What need will the project meet?" in messages


def test_answers_are_checked_against_the_question_list():
    application = ApplicationFactory()
    with pytest.raises(services.GrantError, match="whole number"):
        services.application_save(application=application, user=None, answers={"people": "lots"})
    services.application_save(
        application=application, user=None, answers={"people": "12", "not-a-question": "x"}
    )
    application.refresh_from_db()
    assert application.answers == {"people": "12"}


def test_complete_application_submits():
    application = ApplicationFactory()
    services.application_submit(application=application, user=None)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.submitted_at is not None


@pytest.mark.django_db(transaction=True)
def test_submission_email_goes_to_grant_officers_after_commit():
    officer = user_with_role(Role.GRANT_OFFICER)
    application = ApplicationFactory()
    services.application_submit(application=application, user=None)
    assert [m.to for m in mail.outbox] == [[officer.email]]
    assert application.title in mail.outbox[0].subject


def test_an_inactive_provider_is_not_eligible():
    organisation = OrganisationFactory()
    if not hasattr(organisation, "status"):
        pytest.fail("Organisation has no status field to test eligibility against")
    organisation.status = "inactive"
    organisation.save()
    problems = services.eligibility_problems(round=RoundFactory(), organisation=organisation)
    assert any("active provider" in p for p in problems)


def test_attachments_have_size_and_type_limits(pdf):
    application = ApplicationFactory()
    services.attachment_add(application=application, title="Plan", file=pdf, user=None)
    assert application.attachments.count() == 1
    exe = SimpleUploadedFile("tool.exe", b"MZ", content_type="application/octet-stream")
    with pytest.raises(services.GrantError, match="must be a PDF"):
        services.attachment_add(application=application, title="Tool", file=exe, user=None)
    big = SimpleUploadedFile("big.pdf", b"0" * (10 * 1024 * 1024 + 1))
    with pytest.raises(services.GrantError, match="10 MB"):
        services.attachment_add(application=application, title="Big", file=big, user=None)


def test_a_declared_conflict_removes_the_reviewer_from_scoring(submitted, officer):
    other = user_with_role(Role.GRANT_OFFICER)
    criteria = list(submitted.round.criteria.all())
    mine = services.reviewer_assign(application=submitted, reviewer=officer, assigned_by=officer)
    theirs = services.reviewer_assign(application=submitted, reviewer=other, assigned_by=officer)
    services.review_score(assignment=mine, scores={c.pk: 5 for c in criteria}, comments="Strong")
    services.review_score(assignment=theirs, scores={c.pk: 3 for c in criteria}, comments="")
    assert application_scores(application=submitted)["mean_total"] == 8
    services.conflict_declare(assignment=mine, reason="I volunteer at the lunch club.")
    with pytest.raises(services.GrantError, match="conflict"):
        services.review_score(assignment=mine, scores={c.pk: 5 for c in criteria}, comments="")
    assert ReviewerAssignment.objects.get(pk=mine.pk).scores == {}
    assert application_scores(application=submitted)["mean_total"] == 6


def test_scores_must_be_within_each_criterion(submitted, officer):
    assignment = services.reviewer_assign(
        application=submitted, reviewer=officer, assigned_by=officer
    )
    criteria = list(submitted.round.criteria.all())
    with pytest.raises(services.GrantError, match="score from 0 to 5"):
        services.review_score(
            assignment=assignment, scores={c.pk: 9 for c in criteria}, comments=""
        )


def test_only_grant_officers_can_be_reviewers(submitted, officer):
    provider = user_with_role(Role.PROVIDER_STAFF)
    with pytest.raises(services.GrantError):
        services.reviewer_assign(application=submitted, reviewer=provider, assigned_by=officer)


@pytest.mark.django_db(transaction=True)
def test_approval_creates_award_schedule_and_reports_and_emails_the_applicant(award, submitted):
    assert award.amount_pence == 15_000_00
    assert [t.amount_pence for t in award.tranches.all()] == [7_500_00, 7_500_00]
    kinds = list(award.reports.values_list("kind", flat=True))
    assert kinds.count(ReportKind.QUARTERLY) == 4
    assert ReportKind.LESSONS in kinds and ReportKind.FINAL in kinds
    lessons = award.reports.get(kind=ReportKind.LESSONS)
    q3 = award.reports.get(kind=ReportKind.QUARTERLY, period=3)
    assert lessons.due_on <= q3.due_on
    member_email = submitted.organisation.memberships.get().user.email
    decision = [m for m in mail.outbox if member_email in m.to]
    assert decision and "A strong, well-costed pilot." in decision[0].body
    assert round_spend(round=submitted.round)["awarded"] == 15_000_00


def test_an_award_cannot_take_the_round_over_budget(officer):
    round = RoundFactory(budget_pence=20_000_00, max_award_pence=20_000_00)
    first = ApplicationFactory(round=round, status=ApplicationStatus.SUBMITTED)
    second = ApplicationFactory(round=round, status=ApplicationStatus.SUBMITTED)
    services.application_determine(
        application=first,
        outcome=Outcome.APPROVE,
        reasons="Yes",
        decided_by=officer,
        amount_pence=15_000_00,
    )
    with pytest.raises(services.GrantError, match="over its budget"):
        services.application_determine(
            application=second,
            outcome=Outcome.APPROVE,
            reasons="Yes",
            decided_by=officer,
            amount_pence=6_000_00,
        )
    second.refresh_from_db()
    assert second.status == ApplicationStatus.SUBMITTED


def test_asking_for_more_information_reopens_the_application(submitted, officer):
    services.application_determine(
        application=submitted,
        outcome=Outcome.MORE_INFORMATION,
        reasons="Tell us about volunteers.",
        decided_by=officer,
    )
    submitted.refresh_from_db()
    assert submitted.editable
    services.application_save(
        application=submitted, user=None, summary="With 12 trained volunteers."
    )
    services.application_submit(application=submitted, user=None)
    submitted.refresh_from_db()
    assert submitted.status == ApplicationStatus.SUBMITTED


def test_no_payment_before_the_agreement_is_accepted(award, officer):
    tranche = award.tranches.first()
    with pytest.raises(services.GrantError, match="accept the agreement"):
        services.tranche_pay(
            tranche=tranche, method=PaymentMethod.BANK, reference="BACS1", paid_by=officer
        )
    with pytest.raises(services.GrantError, match="Confirm"):
        services.agreement_accept(award=award, user=None, full_name="Jo Bloggs", confirmed=False)
    services.agreement_accept(award=award, user=None, full_name="Jo Bloggs", confirmed=True)
    paid = services.tranche_pay(
        tranche=tranche, method=PaymentMethod.BANK, reference="BACS1", paid_by=officer
    )
    assert paid.paid_at is not None and paid.reference == "BACS1"
    with pytest.raises(services.GrantError, match="already been paid"):
        services.tranche_pay(
            tranche=tranche, method=PaymentMethod.BANK, reference="BACS2", paid_by=officer
        )
    assert round_spend(round=award.application.round)["paid"] == 7_500_00


@pytest.mark.stripe_mock
def test_a_tranche_is_paid_by_stripe_connect_transfer(award, officer, stripe_settings):
    from marketplace.payments.models import ConnectedAccount

    ConnectedAccount.objects.create(
        organisation=award.application.organisation,
        stripe_account_id="acct_1032D82eZvKYlo2C",
        details_submitted=True,
        transfers_active=True,
    )
    services.agreement_accept(award=award, user=None, full_name="Jo Bloggs", confirmed=True)
    tranche = services.tranche_pay(
        tranche=award.tranches.first(), method=PaymentMethod.STRIPE_TRANSFER, paid_by=officer
    )
    assert tranche.method == PaymentMethod.STRIPE_TRANSFER
    assert tranche.reference.startswith("tr_")


def test_stripe_transfer_needs_a_connected_account(award, officer):
    services.agreement_accept(award=award, user=None, full_name="Jo Bloggs", confirmed=True)
    with pytest.raises(services.GrantError, match="Record a bank payment"):
        services.tranche_pay(
            tranche=award.tranches.first(), method=PaymentMethod.STRIPE_TRANSFER, paid_by=officer
        )


def test_quarterly_report_needs_outcomes_spend_and_risk(award):
    report = award.reports.get(kind=ReportKind.QUARTERLY, period=1)
    with pytest.raises(services.GrantError) as error:
        services.report_submit(report=report, user=None, personal_outcomes="Fewer lonely weeks")
    assert "Enter spend to date." in error.value.messages
    services.report_submit(
        report=report,
        user=None,
        personal_outcomes="Fewer lonely weeks",
        community_impact="New friendships",
        spend_to_date_pence=3_000_00,
        risk_level="green",
        risks="",
    )
    assert MonitoringReport.objects.get(pk=report.pk).submitted_at is not None


@pytest.mark.django_db(transaction=True)
def test_reminders_go_before_and_after_due_dates_once_each(award):
    services.agreement_accept(award=award, user=None, full_name="Jo Bloggs", confirmed=True)
    first = award.reports.order_by("due_on").first()
    mail.outbox.clear()
    sent = services.grant_reminders_send(today=first.due_on - timedelta(days=3))
    assert sent == {"before": 1, "after": 0}
    assert "due" in mail.outbox[0].subject
    assert services.grant_reminders_send(today=first.due_on - timedelta(days=2)) == {
        "before": 0,
        "after": 0,
    }
    sent = services.grant_reminders_send(today=first.due_on + timedelta(days=2))
    assert sent["after"] == 1
    assert mail.outbox[-1].subject.startswith("Overdue")


def test_an_officer_with_a_conflict_cannot_decide(submitted, officer):
    assignment = services.reviewer_assign(
        application=submitted, reviewer=officer, assigned_by=officer
    )
    services.conflict_declare(assignment=assignment, reason="My sister runs it.")
    with pytest.raises(services.GrantError, match="another officer must decide"):
        services.application_determine(
            application=submitted, outcome=Outcome.DECLINE, reasons="No", decided_by=officer
        )
