"""The Personalisation Impact Assessment: a framework the council writes, versions of it,
and each provider's self-assessment against one version.

The four sections and the four-point rating scale are fixed by the council's
design of the tool (Barnet 2010, section 4.2 and recommendation 10); the
statements under them change from version to version.
"""

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.signals import pre_delete
from django.dispatch import receiver
from django.utils import timezone

from wagtail.admin.panels import FieldPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

from marketplace.providers.models import Organisation

from .admin_forms import FrameworkVersionAdminForm


class Section(models.TextChoices):
    ORGANISATION = "organisation", "The organisation"
    SERVICES = "services", "Its services"
    WAYS_OF_WORKING = "ways_of_working", "Support for personalised ways of working"
    OUTCOMES = "outcomes", "Outcomes for people"


SECTION_ORDER = [Section.ORGANISATION, Section.SERVICES, Section.WAYS_OF_WORKING, Section.OUTCOMES]
SECTION_SLUGS = {
    "organisation": Section.ORGANISATION,
    "services": Section.SERVICES,
    "ways-of-working": Section.WAYS_OF_WORKING,
    "outcomes": Section.OUTCOMES,
}


class Rating(models.IntegerChoices):
    NOT_YET = 1, "Not yet"
    STARTING = 2, "Starting"
    DEVELOPING = 3, "Developing"
    EMBEDDED = 4, "Embedded"


# A rating at or below this needs an action in the plan: what, who, by when.
WEAK_RATING = Rating.STARTING
MAX_RATING = Rating.EMBEDDED


FROZEN_MESSAGE = (
    "This version has been used by providers, so it cannot be changed. "
    "Create a new version instead."
)


class FrameworkFrozen(ValidationError):
    """Raised when something tries to change a published version a provider has used."""


class Framework(models.Model):
    """The assessment tool itself, e.g. "Personalisation Impact Assessment"."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    introduction = models.TextField(blank=True, help_text="Shown to providers before they start.")

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("introduction")]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def current_version(self) -> "FrameworkVersion | None":
        return self.versions.filter(status=VersionStatus.PUBLISHED).order_by("-number").first()


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


class FrameworkVersion(ClusterableModel):
    """One version of the framework's statements.

    Drafts are edited freely in Wagtail. Once published and used by any
    provider's assessment the version is frozen: its statements can no longer
    change, so every score ever given means what it meant when given.
    """

    framework = models.ForeignKey(Framework, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    notes = models.TextField(blank=True, help_text="What changed from the last version.")
    published_at = models.DateTimeField(null=True, blank=True)
    previous = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The version this one replaces; map its statements below to compare progress.",
    )

    base_form_class = FrameworkVersionAdminForm

    panels = [
        FieldPanel("framework"),
        FieldPanel("number"),
        FieldPanel("status"),
        FieldPanel("previous"),
        FieldPanel("notes"),
        InlinePanel("statements", label="Statements", heading="Statements"),
        MultiFieldPanel(
            [InlinePanel("mappings", label="Mapping")],
            heading="Statements mapped from the previous version",
        ),
    ]

    class Meta:
        ordering = ["framework", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["framework", "number"], name="framework_version_number_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.framework} version {self.number} ({self.get_status_display()})"

    @property
    def is_frozen(self) -> bool:
        """Published and used by at least one assessment."""
        if self.pk is None:
            return False
        stored = (
            FrameworkVersion.objects.filter(pk=self.pk).values_list("status", flat=True).first()
        )
        return stored != VersionStatus.DRAFT and self.assessments.exists()

    def clean(self):
        if self.is_frozen:
            raise FrameworkFrozen(FROZEN_MESSAGE)

    def save(self, *args, **kwargs):
        if self.pk is not None and self.is_frozen:
            stored = FrameworkVersion.objects.get(pk=self.pk)
            # Retiring a used version is the only change allowed.
            changed = [
                f
                for f in ("framework_id", "number", "notes", "previous_id")
                if getattr(stored, f) != getattr(self, f)
            ]
            if changed or self.status == VersionStatus.DRAFT:
                raise FrameworkFrozen(FROZEN_MESSAGE)
        if self.status == VersionStatus.PUBLISHED and self.published_at is None:
            self.published_at = timezone.now()
        super().save(*args, **kwargs)

    def statements_in(self, section: str):
        return [s for s in self.statements.all() if s.section == section]


class Statement(Orderable):
    """A statement written from the person's point of view, rated by the provider."""

    version = ParentalKey(FrameworkVersion, on_delete=models.CASCADE, related_name="statements")
    section = models.CharField(max_length=20, choices=Section.choices)
    code = models.CharField(max_length=10, help_text="A short reference, e.g. O1.")
    text = models.CharField(
        max_length=300, help_text='From the person\'s view, e.g. "I can choose who supports me."'
    )
    guidance = models.TextField(blank=True, help_text="What good evidence looks like.")

    panels = [FieldPanel("section"), FieldPanel("code"), FieldPanel("text"), FieldPanel("guidance")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="statement_code_once_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.text}"

    def save(self, *args, **kwargs):
        version = FrameworkVersion.objects.filter(pk=self.version_id).first()
        frozen = version is not None and version.is_frozen
        if frozen and (self.pk is None or _statement_changed(self)):
            raise FrameworkFrozen("Statements of a version providers have used cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Checked here, before Django opens its delete transaction, so the caller's
        # transaction stays usable; the pre_delete receiver covers bulk deletes.
        version = FrameworkVersion.objects.filter(pk=self.version_id).first()
        if version is not None and version.is_frozen:
            raise FrameworkFrozen("Statements of a version providers have used cannot be deleted.")
        return super().delete(*args, **kwargs)


def _statement_changed(statement: Statement) -> bool:
    stored = Statement.objects.filter(pk=statement.pk).first()
    if stored is None:
        return True
    return any(
        getattr(stored, f) != getattr(statement, f)
        for f in ("section", "code", "text", "guidance", "sort_order")
    )


@receiver(pre_delete, sender=Statement)
def _refuse_deleting_used_statement(sender, instance: Statement, **kwargs):
    version = FrameworkVersion.objects.filter(pk=instance.version_id).first()
    if version is not None and version.is_frozen:
        raise FrameworkFrozen("Statements of a version providers have used cannot be deleted.")


class StatementMapping(Orderable):
    """A statement in this version that carries on from one in the previous version."""

    version = ParentalKey(FrameworkVersion, on_delete=models.CASCADE, related_name="mappings")
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="mapped_from")
    previous_statement = models.ForeignKey(
        Statement, on_delete=models.CASCADE, related_name="mapped_to"
    )

    panels = [FieldPanel("statement"), FieldPanel("previous_statement")]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["statement", "previous_statement"], name="statement_mapped_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.previous_statement.code} → {self.statement.code}"


class AssessmentStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", "In progress"
    SUBMITTED = "submitted", "Submitted for review"
    RETURNED = "returned", "Returned for changes"
    AGREED = "agreed", "Agreed"


OPEN_STATUSES = (
    AssessmentStatus.IN_PROGRESS,
    AssessmentStatus.SUBMITTED,
    AssessmentStatus.RETURNED,
)


class AssessmentQuerySet(models.QuerySet):
    def agreed(self):
        return self.filter(status=AssessmentStatus.AGREED)

    def open(self):
        return self.filter(status__in=OPEN_STATUSES)


class Assessment(models.Model):
    """One provider's self-assessment against one framework version."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="assessments"
    )
    version = models.ForeignKey(
        FrameworkVersion, on_delete=models.PROTECT, related_name="assessments"
    )
    status = models.CharField(
        max_length=12, choices=AssessmentStatus.choices, default=AssessmentStatus.IN_PROGRESS
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Sections a reviewer returned; only these are editable until resubmission.
    returned_sections = models.JSONField(default=list, blank=True)
    # Cached on agreement so the directory and comparisons read one row.
    overall_score = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)

    objects = AssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status__in=["in_progress", "submitted", "returned"]),
                name="one_open_assessment_per_organisation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organisation} – {self.version} ({self.get_status_display()})"

    def section_editable(self, section: str) -> bool:
        if self.status == AssessmentStatus.IN_PROGRESS:
            return True
        return self.status == AssessmentStatus.RETURNED and section in self.returned_sections


class StatementResponse(models.Model):
    """The provider's rating of one statement, its evidence, and an action if the rating is weak."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="responses")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="responses")
    rating = models.PositiveSmallIntegerField(choices=Rating.choices, null=True, blank=True)
    evidence = models.TextField(blank=True)
    action_what = models.TextField("what you will do", blank=True)
    action_who = models.CharField("who will do it", max_length=200, blank=True)
    action_by = models.DateField("by when", null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "statement"], name="one_response_per_statement"
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=4),
                name="rating_on_the_scale",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.statement.code}: {self.rating}"

    @property
    def needs_action(self) -> bool:
        return self.rating is not None and self.rating <= WEAK_RATING


def evidence_upload_to(instance, filename: str) -> str:
    return f"assessments/{instance.assessment_id}/{filename}"


class EvidenceFile(models.Model):
    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="evidence_files"
    )
    section = models.CharField(max_length=20, choices=Section.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=evidence_upload_to)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.title


class SectionOutcome(models.TextChoices):
    AGREED = "agreed", "Agreed"
    RETURNED = "returned", "Returned for changes"


class SectionReview(models.Model):
    """A council reviewer's comment on one section, at one review."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="section_reviews"
    )
    section = models.CharField(max_length=20, choices=Section.choices)
    outcome = models.CharField(max_length=10, choices=SectionOutcome.choices)
    comment = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.get_section_display()}: {self.get_outcome_display()}"


class ReassessmentReminder(models.Model):
    """A yearly reminder sent once per agreed assessment."""

    assessment = models.OneToOneField(Assessment, on_delete=models.CASCADE, related_name="reminder")
    sent_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Reminder for {self.assessment}"
