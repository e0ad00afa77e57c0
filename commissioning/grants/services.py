"""Writes for the Innovation Fund: applications, reviews, determinations, awards,
payments and monitoring reports."""

from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mass_mail
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from marketplace.accounts.models import User
from marketplace.accounts.roles import ROLE_GROUPS, Role
from marketplace.providers.models import Membership, Organisation

from .models import (
    OPEN_APPLICATION_STATUSES,
    Application,
    ApplicationStatus,
    Attachment,
    Award,
    Determination,
    MonitoringReport,
    Outcome,
    PaymentMethod,
    Question,
    QuestionKind,
    ReminderKind,
    ReportKind,
    ReportReminder,
    ReviewerAssignment,
    Round,
    Tranche,
)

ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024
ATTACHMENT_EXTENSIONS = {".pdf", ".doc", ".docx", ".odt", ".xlsx", ".ods", ".csv", ".txt"}
REMIND_BEFORE_DAYS = 7
REMIND_AFTER_DAYS = 1


class GrantError(ValidationError):
    """A plain-English reason the action cannot be done."""


def _member_emails(organisation: Organisation) -> list[str]:
    return list(
        Membership.objects.filter(organisation=organisation, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


def _officer_emails() -> list[str]:
    return list(
        User.objects.filter(groups__name__in=ROLE_GROUPS[Role.GRANT_OFFICER], is_active=True)
        .values_list("email", flat=True)
        .distinct()
    )


def _send(messages: list[tuple[str, str, list[str]]]) -> None:
    """Queue e-mails to go once the transaction commits."""
    batch = [(s, b, settings.DEFAULT_FROM_EMAIL, to) for s, b, to in messages if to]
    if batch:
        transaction.on_commit(lambda: send_mass_mail(batch, fail_silently=False))


def _site(path: str) -> str:
    return f"{settings.WAGTAILADMIN_BASE_URL}{path}"


# Applications


def eligibility_problems(*, round: Round, organisation: Organisation, exclude_pk=None) -> list[str]:
    """Why this organisation may not apply to this round now (empty when it may)."""
    problems = []
    if not round.is_open:
        problems.append("This round is not open for applications.")
    if getattr(organisation, "status", "active") != "active":
        problems.append(f"{organisation.name} must be an active provider to apply.")
    others = Application.objects.filter(
        round=round, organisation=organisation, status__in=OPEN_APPLICATION_STATUSES
    )
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    if others.exists():
        problems.append(f"{organisation.name} already has an application in this round.")
    return problems


@transaction.atomic
def application_start(*, round: Round, organisation: Organisation, user: User) -> Application:
    """Start a draft application. Guarantees one open application per organisation per
    round (a database constraint backs the check)."""
    problems = eligibility_problems(round=round, organisation=organisation)
    if problems:
        raise GrantError(problems)
    try:
        with transaction.atomic():
            return Application.objects.create(
                round=round,
                organisation=organisation,
                created_by=user,
                title="",
                development_area=round.areas[0],
            )
    except IntegrityError:
        raise GrantError(f"{organisation.name} already has an application in this round.") from None


def answers_validate(*, questions: list[Question], answers: dict, complete: bool) -> dict[str, str]:
    """Errors by question key. ``complete`` also requires every required answer."""
    errors = {}
    for question in questions:
        value = answers.get(question.key)
        empty = value in (None, "")
        if empty:
            if complete and question.required:
                errors[question.key] = f"Answer ‘{question.label}’."
            continue
        if question.kind == QuestionKind.NUMBER:
            try:
                int(value)
            except (TypeError, ValueError):
                errors[question.key] = f"‘{question.label}’ must be a whole number."
        elif question.kind == QuestionKind.YES_NO and value not in ("yes", "no"):
            errors[question.key] = f"Answer yes or no to ‘{question.label}’."
        elif question.kind == QuestionKind.CHOICE and value not in question.choice_list:
            errors[question.key] = f"Choose one of the options for ‘{question.label}’."
        elif question.max_words and len(str(value).split()) > question.max_words:
            errors[question.key] = (
                f"‘{question.label}’ must be {question.max_words} words or fewer."
            )
    return errors


@transaction.atomic
def application_save(*, application: Application, user: User, **fields) -> Application:
    """Save a draft (or an application sent back for more information). Partial answers
    are allowed; answers are checked against the round's question list."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if not application.editable:
        raise GrantError("This application can no longer be changed.")
    answers = fields.pop("answers", None)
    if answers is not None:
        questions = list(application.round.form.questions.all())
        errors = answers_validate(questions=questions, answers=answers, complete=False)
        if errors:
            raise GrantError(list(errors.values()))
        keys = {q.key for q in questions}
        application.answers = {k: v for k, v in answers.items() if k in keys}
    cited = fields.get("cited_assessment")
    if cited is not None and cited.organisation_id != application.organisation_id:
        raise GrantError("You can only cite your own organisation's assessment.")
    for name, value in fields.items():
        setattr(application, name, value)
    application.save()
    return application


@transaction.atomic
def attachment_add(
    *, application: Application, title: str, file: UploadedFile, user: User
) -> Attachment:
    """Attach a document. Refuses files over 10 MB or of other types."""
    if not application.editable:
        raise GrantError("This application can no longer be changed.")
    if file.size > ATTACHMENT_MAX_BYTES:
        raise GrantError("The file must be smaller than 10 MB.")
    if Path(file.name).suffix.lower() not in ATTACHMENT_EXTENSIONS:
        raise GrantError(
            "The file must be a PDF, Word, OpenDocument, spreadsheet, CSV or text file."
        )
    return Attachment.objects.create(
        application=application, title=title, file=file, uploaded_by=user
    )


@transaction.atomic
def attachment_remove(*, attachment: Attachment) -> None:
    if not attachment.application.editable:
        raise GrantError("This application can no longer be changed.")
    attachment.file.delete(save=False)
    attachment.delete()


def application_submit_problems(*, application: Application) -> list[str]:
    problems = []
    round = application.round
    if timezone.now() >= round.closes_at:
        problems.append(
            f"The deadline for this round was {timezone.localtime(round.closes_at):%-d %B %Y at %-I:%M%p}."
        )
    if not application.title.strip():
        problems.append("Enter a project title.")
    if not application.summary.strip():
        problems.append("Enter a project summary.")
    if application.development_area not in round.areas:
        problems.append("Choose a development area this round funds.")
    if application.amount_requested_pence <= 0:
        problems.append("Enter the amount you are asking for.")
    elif application.amount_requested_pence > round.max_award_pence:
        problems.append(
            f"The most you can ask for in this round is £{round.max_award_pence // 100:,}."
        )
    if getattr(application.organisation, "status", "active") != "active":
        problems.append(f"{application.organisation.name} must be an active provider to apply.")
    questions = list(round.form.questions.all())
    problems += list(
        answers_validate(questions=questions, answers=application.answers, complete=True).values()
    )
    return problems


@transaction.atomic
def application_submit(*, application: Application, user: User) -> Application:
    """Submit before the deadline, once complete and eligible. Grant officers are
    e-mailed after commit."""
    application = (
        Application.objects.select_for_update().select_related("round").get(pk=application.pk)
    )
    if not application.editable:
        raise GrantError("This application has already been submitted.")
    problems = application_submit_problems(application=application)
    if problems:
        raise GrantError(problems)
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = timezone.now()
    application.save()
    officers = _officer_emails()
    _send(
        [
            (
                f"New Innovation Fund application: {application.title}",
                f"{application.organisation.name} has applied to {application.round.title}. "
                f"See it at {_site(f'/grants/manage/applications/{application.pk}/')}",
                officers,
            )
        ]
    )
    return application


# Reviews


@transaction.atomic
def reviewer_assign(
    *, application: Application, reviewer: User, assigned_by: User
) -> ReviewerAssignment:
    """Ask a grant officer to review an application (once; repeating does nothing)."""
    if not reviewer.has_role(Role.GRANT_OFFICER):
        raise GrantError("Only grant officers can review applications.")
    if application.status == ApplicationStatus.DRAFT:
        raise GrantError("A draft cannot be reviewed.")
    assignment, created = ReviewerAssignment.objects.get_or_create(
        application=application, reviewer=reviewer, defaults={"assigned_by": assigned_by}
    )
    if created:
        _send(
            [
                (
                    f"Please review: {application.title}",
                    f"You have been asked to review an Innovation Fund application. "
                    f"{_site(f'/grants/reviews/{application.pk}/')}",
                    [reviewer.email],
                )
            ]
        )
    return assignment


@transaction.atomic
def conflict_declare(*, assignment: ReviewerAssignment, reason: str) -> ReviewerAssignment:
    """A declared conflict removes the reviewer from scoring this application, and
    clears any scores they gave."""
    if not reason.strip():
        raise GrantError("Describe the conflict of interest.")
    assignment = ReviewerAssignment.objects.select_for_update().get(pk=assignment.pk)
    assignment.conflict_declared = True
    assignment.conflict_reason = reason
    assignment.scores = {}
    assignment.scored_at = None
    assignment.save()
    return assignment


@transaction.atomic
def review_score(
    *, assignment: ReviewerAssignment, scores: dict[int, int], comments: str
) -> ReviewerAssignment:
    """Score every criterion of the round within its range. Refused after a declared
    conflict or once the application has been determined."""
    assignment = (
        ReviewerAssignment.objects.select_for_update()
        .select_related("application")
        .get(pk=assignment.pk)
    )
    if assignment.conflict_declared:
        raise GrantError(
            "You declared a conflict of interest, so you cannot score this application."
        )
    if assignment.application.status != ApplicationStatus.SUBMITTED:
        raise GrantError("This application is not waiting for review.")
    criteria = list(assignment.application.round.criteria.all())
    clean = {}
    for criterion in criteria:
        value = scores.get(criterion.pk)
        if value is None or not 0 <= int(value) <= criterion.max_score:
            raise GrantError(f"Give ‘{criterion.name}’ a score from 0 to {criterion.max_score}.")
        clean[str(criterion.pk)] = int(value)
    assignment.scores = clean
    assignment.comments = comments
    assignment.scored_at = timezone.now()
    assignment.save()
    return assignment


# Determinations and awards


@transaction.atomic
def application_determine(
    *,
    application: Application,
    outcome: str,
    reasons: str,
    decided_by: User,
    amount_pence: int | None = None,
    tranches: list[tuple[int, date]] | None = None,
    agreement_text: str = "",
) -> Determination:
    """Approve, decline or ask for more information, with reasons the applicant sees.

    Approval creates the award, its payment schedule and its monitoring reports,
    and refuses an award that would take the round over budget. An officer who
    declared a conflict on the application cannot decide it. The applicant's
    staff are e-mailed the decision after commit.
    """
    application = (
        Application.objects.select_for_update().select_related("round").get(pk=application.pk)
    )
    if application.status != ApplicationStatus.SUBMITTED:
        raise GrantError("Only a submitted application can be decided.")
    if not reasons.strip():
        raise GrantError("Give the reasons for the decision.")
    if application.assignments.filter(reviewer=decided_by, conflict_declared=True).exists():
        raise GrantError("You declared a conflict of interest, so another officer must decide.")
    if outcome == Outcome.APPROVE:
        _award_create(
            application=application,
            amount_pence=amount_pence,
            tranches=tranches,
            agreement_text=agreement_text,
        )
        application.status = ApplicationStatus.APPROVED
    elif outcome == Outcome.DECLINE:
        application.status = ApplicationStatus.DECLINED
    elif outcome == Outcome.MORE_INFORMATION:
        application.status = ApplicationStatus.MORE_INFORMATION
    else:
        raise GrantError("Choose approve, decline or ask for more information.")
    application.save()
    determination = Determination.objects.create(
        application=application, outcome=outcome, reasons=reasons, decided_by=decided_by
    )
    _send(
        [
            (
                f"Innovation Fund: {determination.get_outcome_display().lower()} – {application.title}",
                f"Decision: {determination.get_outcome_display()}\n\n{reasons}\n\n"
                f"See it at {_site(f'/grants/applications/{application.pk}/')}",
                _member_emails(application.organisation),
            )
        ]
    )
    return determination


def _award_create(*, application, amount_pence, tranches, agreement_text) -> Award:
    round = Round.objects.select_for_update().get(pk=application.round_id)
    if not amount_pence or amount_pence <= 0:
        raise GrantError("Enter the amount awarded.")
    awarded = (
        Award.objects.filter(application__round=round).aggregate(t=Sum("amount_pence"))["t"] or 0
    )
    if awarded + amount_pence > round.budget_pence:
        raise GrantError(
            f"That would take the round over its budget: £{(round.budget_pence - awarded) / 100:,.2f} is left."
        )
    tranches = tranches or [(amount_pence, round.grant_starts_on)]
    if sum(a for a, _ in tranches) != amount_pence:
        raise GrantError("The tranches must add up to the amount awarded.")
    award = Award.objects.create(
        application=application,
        amount_pence=amount_pence,
        agreement_text=agreement_text
        or default_agreement(application=application, amount_pence=amount_pence),
        starts_on=round.grant_starts_on,
        ends_on=round.grant_ends_on,
    )
    Tranche.objects.bulk_create(
        Tranche(award=award, number=n, amount_pence=a, due_on=d)
        for n, (a, d) in enumerate(tranches, 1)
    )
    MonitoringReport.objects.bulk_create(report_schedule(award=award))
    return award


def default_agreement(*, application: Application, amount_pence: int) -> str:
    return (
        f"{settings.COUNCIL_NAME} awards {application.organisation.name} "
        f"£{amount_pence / 100:,.2f} from the Innovation Fund for “{application.title}”.\n\n"
        "In accepting, the organisation agrees to: spend the grant only on the project described "
        "in its application; send a report every quarter on personal outcomes for individuals, "
        "impact on groups and communities, spend to date and risks; write a lessons-learnt report "
        "by the end of the third quarter; present the project at the provider conference; "
        "co-produce a final evaluation with the council; and return any money not spent on the project."
    )


def report_schedule(*, award: Award) -> list[MonitoringReport]:
    """Four quarterly reports, a lessons-learnt report due with Q3, and a final
    evaluation a month after the grant year ends."""
    start = award.starts_on
    reports = []
    for quarter in range(1, 5):
        due = _add_months(start, 3 * quarter) + timedelta(days=14)
        reports.append(
            MonitoringReport(award=award, kind=ReportKind.QUARTERLY, period=quarter, due_on=due)
        )
    reports.append(
        MonitoringReport(award=award, kind=ReportKind.LESSONS, due_on=_add_months(start, 9))
    )
    reports.append(
        MonitoringReport(
            award=award, kind=ReportKind.FINAL, due_on=award.ends_on + timedelta(days=30)
        )
    )
    return reports


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year = day.year + month // 12
    month = month % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


@transaction.atomic
def agreement_accept(*, award: Award, user: User, full_name: str, confirmed: bool) -> Award:
    """The provider accepts the written agreement: a ticked box, a typed name and the time."""
    award = Award.objects.select_for_update().get(pk=award.pk)
    if award.accepted:
        raise GrantError("The agreement has already been accepted.")
    if not confirmed:
        raise GrantError("Confirm that you accept the agreement on behalf of your organisation.")
    if not full_name.strip():
        raise GrantError("Enter your full name.")
    award.agreement_accepted_at = timezone.now()
    award.agreement_accepted_name = full_name.strip()
    award.agreement_accepted_by = user
    award.save()
    return award


@transaction.atomic
def tranche_pay(*, tranche: Tranche, method: str, paid_by: User, reference: str = "") -> Tranche:
    """Pay one tranche, once. A Stripe Connect transfer goes to the provider's connected
    account (idempotency key per tranche, so a retry never pays twice); a bank payment
    records the officer's reference. Refused before the agreement is accepted."""
    tranche = (
        Tranche.objects.select_for_update()
        .select_related("award__application__organisation")
        .get(pk=tranche.pk)
    )
    if tranche.paid_at is not None:
        raise GrantError("This tranche has already been paid.")
    if not tranche.award.accepted:
        raise GrantError("The provider must accept the agreement before any payment.")
    if method == PaymentMethod.STRIPE_TRANSFER:
        reference = _stripe_transfer(tranche)
    elif method == PaymentMethod.BANK:
        if not reference.strip():
            raise GrantError("Enter the bank payment reference.")
    else:
        raise GrantError("Choose how the tranche was paid.")
    tranche.method = method
    tranche.reference = reference.strip()
    tranche.paid_at = timezone.now()
    tranche.paid_by = paid_by
    tranche.save()
    return tranche


def _stripe_transfer(tranche: Tranche) -> str:
    from marketplace.payments.models import ConnectedAccount
    from marketplace.payments.stripe_api import StripeNotConfigured, client

    organisation = tranche.award.application.organisation
    account = ConnectedAccount.objects.filter(organisation=organisation).first()
    if account is None or not account.transfers_active:
        raise GrantError(
            f"{organisation.name} has no Stripe account that can receive transfers. Record a bank payment instead."
        )
    try:
        transfer = client().v1.transfers.create(
            params={
                "amount": tranche.amount_pence,
                "currency": "gbp",
                "destination": account.stripe_account_id,
                "transfer_group": f"grant-award-{tranche.award_id}",
                "description": f"Innovation Fund grant, tranche {tranche.number}",
                "metadata": {"award_id": str(tranche.award_id), "tranche": str(tranche.number)},
            },
            options={"idempotency_key": f"grant-tranche-{tranche.pk}"},
        )
    except StripeNotConfigured as error:
        raise GrantError("Stripe is not set up here. Record a bank payment instead.") from error
    return transfer.id


# Monitoring


@transaction.atomic
def report_submit(*, report: MonitoringReport, user: User, **fields) -> MonitoringReport:
    """Submit a monitoring report. Quarterly reports need outcomes, impact, spend to date
    and a risk rating; the lessons-learnt report and final evaluation need their text."""
    report = MonitoringReport.objects.select_for_update().get(pk=report.pk)
    if report.submitted_at is not None:
        raise GrantError("This report has already been sent.")
    for name, value in fields.items():
        setattr(report, name, value)
    if report.kind == ReportKind.QUARTERLY:
        missing = [
            label
            for label, value in (
                ("personal outcomes for individuals", report.personal_outcomes),
                ("impact on groups and communities", report.community_impact),
                ("spend to date", report.spend_to_date_pence),
                ("a risk rating", report.risk_level),
            )
            if value in (None, "")
        ]
        if missing:
            raise GrantError([f"Enter {label}." for label in missing])
    elif not report.body.strip():
        raise GrantError(f"Write the {report.get_kind_display().lower()}.")
    report.submitted_at = timezone.now()
    report.submitted_by = user
    report.save()
    return report


def grant_reminders_send(*, today: date | None = None) -> dict[str, int]:
    """E-mail grantees about reports due within REMIND_BEFORE_DAYS, and again once a
    report is overdue. Each reminder is recorded once, so reruns send nothing twice.
    Grant officers get a copy of every overdue reminder."""
    today = today or timezone.localdate()
    sent = {ReminderKind.BEFORE: 0, ReminderKind.AFTER: 0}
    due = MonitoringReport.objects.filter(
        submitted_at__isnull=True,
        award__agreement_accepted_at__isnull=False,
        due_on__lte=today + timedelta(days=REMIND_BEFORE_DAYS),
    ).select_related("award__application__organisation")
    officers = _officer_emails()
    for report in due:
        if report.due_on >= today:
            kind = ReminderKind.BEFORE
        elif (today - report.due_on).days >= REMIND_AFTER_DAYS:
            kind = ReminderKind.AFTER
        else:
            continue
        with transaction.atomic():
            _, created = ReportReminder.objects.get_or_create(report=report, kind=kind)
            if not created:
                continue
            application = report.award.application
            if kind == ReminderKind.BEFORE:
                subject = f"{report.title} due {report.due_on:%-d %B %Y}: {application.title}"
                to = _member_emails(application.organisation)
            else:
                subject = f"Overdue: {report.title} for {application.title}"
                to = _member_emails(application.organisation) + officers
            _send(
                [
                    (
                        subject,
                        f"The {report.title.lower()} for “{application.title}” is due on "
                        f"{report.due_on:%-d %B %Y}. Send it at {_site(f'/grants/awards/{report.award_id}/')}",
                        to,
                    )
                ]
            )
            sent[kind] += 1
    return {str(k): v for k, v in sent.items()}
