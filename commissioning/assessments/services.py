"""Writes for Personalisation Impact Assessments: start, save as you go, submit, review, remind."""

from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone

from marketplace.accounts.models import User
from marketplace.accounts.roles import ROLE_GROUPS, Role
from marketplace.providers.models import Membership, Organisation

from .models import (
    SECTION_ORDER,
    Assessment,
    AssessmentStatus,
    EvidenceFile,
    FrameworkVersion,
    ReassessmentReminder,
    Section,
    SectionOutcome,
    SectionReview,
    StatementResponse,
    VersionStatus,
)
from .selectors import (
    assessment_incomplete_items,
    assessment_scores,
    assessments_due_for_reassessment,
    framework_current_version,
)

EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_EXTENSIONS = {".pdf", ".doc", ".docx", ".odt", ".txt", ".rtf", ".jpg", ".jpeg", ".png"}


class AssessmentError(ValidationError):
    """A plain-English reason the action cannot be done."""


def _member_emails(organisation: Organisation) -> list[str]:
    return list(
        Membership.objects.filter(organisation=organisation, user__is_active=True).values_list(
            "user__email", flat=True
        )
    )


def _reviewer_emails() -> list[str]:
    return list(
        User.objects.filter(groups__name__in=ROLE_GROUPS[Role.GRANT_OFFICER], is_active=True)
        .values_list("email", flat=True)
        .distinct()
    )


def _send(messages: list[tuple[str, str, list[str]]]) -> None:
    """Queue e-mails to go once the transaction commits (never for a rolled-back change)."""
    batch = [(s, b, settings.DEFAULT_FROM_EMAIL, to) for s, b, to in messages if to]
    if batch:
        transaction.on_commit(lambda: send_mass_mail(batch, fail_silently=False))


@transaction.atomic
def assessment_start(
    *, organisation: Organisation, user: User, version: FrameworkVersion | None = None
) -> Assessment:
    """Start a new assessment on the current published version.

    Guarantees at most one open assessment per organisation: an existing open
    one is returned rather than a second created.
    """
    existing = Assessment.objects.open().filter(organisation=organisation).first()
    if existing is not None:
        return existing
    version = version or framework_current_version()
    if version is None or version.status != VersionStatus.PUBLISHED:
        raise AssessmentError("There is no published assessment framework to use yet.")
    return Assessment.objects.create(organisation=organisation, version=version, started_by=user)


@transaction.atomic
def assessment_section_save(
    *, assessment: Assessment, section: str, answers: dict[int, dict], user: User
) -> None:
    """Save the provider's answers for one section (partial answers allowed: save as you go).

    ``answers`` maps statement id to ``rating``, ``evidence``, ``action_what``,
    ``action_who``, ``action_by``. Only sections that are open for editing
    change; statements outside the section are ignored.
    """
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if not assessment.section_editable(section):
        raise AssessmentError("This section cannot be changed now.")
    statements = {s.pk: s for s in assessment.version.statements.all() if s.section == section}
    existing = {
        r.statement_id: r
        for r in StatementResponse.objects.filter(
            assessment=assessment, statement_id__in=statements
        )
    }
    for statement_id, values in answers.items():
        if statement_id not in statements:
            continue
        response = existing.get(statement_id) or StatementResponse(
            assessment=assessment, statement_id=statement_id
        )
        response.rating = values.get("rating") or None
        response.evidence = values.get("evidence", "")
        response.action_what = values.get("action_what", "")
        response.action_who = values.get("action_who", "")
        response.action_by = values.get("action_by")
        response.save()


@transaction.atomic
def evidence_add(
    *, assessment: Assessment, section: str, title: str, file: UploadedFile, user: User
) -> EvidenceFile:
    """Attach an evidence file to a section. Refuses files over 10 MB or of other types."""
    if not assessment.section_editable(section):
        raise AssessmentError("This section cannot be changed now.")
    if file.size > EVIDENCE_MAX_BYTES:
        raise AssessmentError("The file must be smaller than 10 MB.")
    if Path(file.name).suffix.lower() not in EVIDENCE_EXTENSIONS:
        raise AssessmentError("The file must be a PDF, Word document, text file or picture.")
    return EvidenceFile.objects.create(
        assessment=assessment, section=section, title=title, file=file, uploaded_by=user
    )


@transaction.atomic
def evidence_remove(*, evidence: EvidenceFile) -> None:
    if not evidence.assessment.section_editable(evidence.section):
        raise AssessmentError("This section cannot be changed now.")
    evidence.file.delete(save=False)
    evidence.delete()


@transaction.atomic
def assessment_submit(*, assessment: Assessment, user: User) -> Assessment:
    """Send the assessment to the council. Every statement must be rated and every weak
    rating (1 or 2) must have an action. Council reviewers are e-mailed after commit."""
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.status not in (AssessmentStatus.IN_PROGRESS, AssessmentStatus.RETURNED):
        raise AssessmentError("This assessment has already been submitted.")
    problems = assessment_incomplete_items(assessment=assessment)
    if problems:
        raise AssessmentError(problems)
    assessment.status = AssessmentStatus.SUBMITTED
    assessment.submitted_at = timezone.now()
    assessment.returned_sections = []
    assessment.save()
    _send(
        [
            (
                f"Assessment to review: {assessment.organisation.name}",
                f"{assessment.organisation.name} has submitted its Personalisation Impact "
                f"Assessment. Review it at {settings.WAGTAILADMIN_BASE_URL}/assessments/review/"
                f"{assessment.pk}/",
                _reviewer_emails(),
            )
        ]
    )
    return assessment


@transaction.atomic
def assessment_review(
    *, assessment: Assessment, reviewer: User, sections: dict[str, tuple[str, str]]
) -> Assessment:
    """Record the council's review: per section, agreed or returned, with a comment.

    If any section is returned the assessment goes back to the provider with
    only those sections editable; otherwise it is agreed and its overall score
    fixed. The provider's staff are e-mailed after commit.
    """
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise AssessmentError("Only a submitted assessment can be reviewed.")
    returned = []
    for section in SECTION_ORDER:
        outcome, comment = sections.get(section, (SectionOutcome.AGREED, ""))
        if outcome == SectionOutcome.RETURNED:
            if not comment.strip():
                raise AssessmentError(
                    f"Say why you are returning the section ‘{Section(section).label}’."
                )
            returned.append(section.value)
        SectionReview.objects.create(
            assessment=assessment,
            section=section,
            outcome=outcome,
            comment=comment,
            reviewer=reviewer,
        )
    assessment.reviewer = reviewer
    if returned:
        assessment.status = AssessmentStatus.RETURNED
        assessment.returned_sections = returned
        subject = "Your assessment has been returned with comments"
        body = (
            "The council has returned some sections of your Personalisation Impact Assessment "
            "with comments. Sign in to read them, make changes and submit again."
        )
    else:
        assessment.status = AssessmentStatus.AGREED
        assessment.agreed_at = timezone.now()
        assessment.overall_score = assessment_scores(assessment=assessment)["overall"]
        subject = "Your assessment has been agreed"
        body = (
            "The council has agreed your Personalisation Impact Assessment. Your directory "
            "profile now shows the result."
        )
    assessment.save()
    _send([(subject, body, _member_emails(assessment.organisation))])
    return assessment


def reassessment_reminders_send(*, today: date | None = None) -> int:
    """E-mail providers whose latest agreed assessment is a year old. Each assessment
    is reminded once (a unique row records it), so reruns send nothing new."""
    sent = 0
    for assessment in assessments_due_for_reassessment(today=today):
        with transaction.atomic():
            _, created = ReassessmentReminder.objects.get_or_create(assessment=assessment)
            if not created:
                continue
            _send(
                [
                    (
                        "Time to update your Personalisation Impact Assessment",
                        f"It is a year since {assessment.organisation.name}'s assessment was agreed. "
                        "Sign in and start a new one to show how you have progressed.",
                        _member_emails(assessment.organisation),
                    )
                ]
            )
            sent += 1
    return sent
