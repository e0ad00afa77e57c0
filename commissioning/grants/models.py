"""The Innovation Fund: funds, rounds, applications, reviews, awards and monitoring.

Modelled on Hypha's funds/rounds/determinations/projects, cut down to what
the council's fund needs (Barnet 2010, section 4.2 and recommendation 9).
"""

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import Orderable

from marketplace.providers.models import Organisation

from .admin_forms import RoundAdminForm


class DevelopmentArea(models.TextChoices):
    MARKET = "market_development", "Market development"
    WORKFORCE = "workforce_development", "Workforce development"
    SOCIAL_CAPITAL = "social_capital", "Social capital"
    SUPPORT_PLANNING = "support_planning", "Support planning and brokerage"


class Fund(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    panels = [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description")]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApplicationForm(ClusterableModel):
    """The questions applicants answer; a grant officer edits them in Wagtail."""

    name = models.CharField(max_length=200)

    panels = [FieldPanel("name"), InlinePanel("questions", label="Question", heading="Questions")]

    def __str__(self) -> str:
        return self.name


class QuestionKind(models.TextChoices):
    SHORT_TEXT = "short_text", "Short answer"
    LONG_TEXT = "long_text", "Long answer"
    NUMBER = "number", "Whole number"
    YES_NO = "yes_no", "Yes or no"
    CHOICE = "choice", "Choose one"


class Question(Orderable):
    form = ParentalKey(ApplicationForm, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(max_length=50, help_text="Stays the same when the wording changes.")
    label = models.CharField(max_length=300)
    help_text = models.CharField(max_length=500, blank=True)
    kind = models.CharField(
        max_length=12, choices=QuestionKind.choices, default=QuestionKind.LONG_TEXT
    )
    choices = models.TextField(blank=True, help_text="For 'Choose one': one option a line.")
    required = models.BooleanField(default=True)
    max_words = models.PositiveIntegerField(null=True, blank=True)

    panels = [
        FieldRowPanel([FieldPanel("key"), FieldPanel("kind"), FieldPanel("required")]),
        FieldPanel("label"),
        FieldPanel("help_text"),
        FieldPanel("choices"),
        FieldPanel("max_words"),
    ]

    class Meta(Orderable.Meta):
        constraints = [
            models.UniqueConstraint(fields=["form", "key"], name="question_key_once_per_form")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]


class RoundQuerySet(models.QuerySet):
    def open(self, at=None):
        at = at or timezone.now()
        return self.filter(opens_at__lte=at, closes_at__gt=at)


class Round(ClusterableModel):
    """One call for applications, with its budget, deadline and monitoring year."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="rounds")
    title = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField(help_text="Applications must be submitted before this time.")
    budget_pence = models.BigIntegerField(validators=[MinValueValidator(1)])
    max_award_pence = models.BigIntegerField(
        validators=[MinValueValidator(1)], help_text="The most any one application may ask for."
    )
    development_areas = models.JSONField(
        default=list, help_text="Development areas this round funds (empty means all four)."
    )
    form = models.ForeignKey(ApplicationForm, on_delete=models.PROTECT, related_name="rounds")
    grant_starts_on = models.DateField(help_text="The start of the monitoring year.")
    grant_ends_on = models.DateField()

    objects = RoundQuerySet.as_manager()

    base_form_class = RoundAdminForm

    panels = [
        FieldPanel("fund"),
        FieldPanel("title"),
        FieldPanel("slug"),
        FieldPanel("description"),
        FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]),
        FieldRowPanel([FieldPanel("budget_pence"), FieldPanel("max_award_pence")]),
        FieldPanel("development_areas"),
        FieldPanel("form"),
        FieldRowPanel([FieldPanel("grant_starts_on"), FieldPanel("grant_ends_on")]),
        MultiFieldPanel([InlinePanel("criteria", label="Criterion")], heading="Scoring criteria"),
    ]

    class Meta:
        ordering = ["-opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")), name="round_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=Q(max_award_pence__lte=models.F("budget_pence")),
                name="round_cap_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        now = timezone.now()
        return self.opens_at <= now < self.closes_at

    @property
    def areas(self) -> list[str]:
        return self.development_areas or list(DevelopmentArea.values)

    def area_labels(self) -> list[str]:
        return [DevelopmentArea(a).label for a in self.areas]


class Criterion(Orderable):
    round = ParentalKey(Round, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField(max_length=200)
    guidance = models.TextField(blank=True)
    max_score = models.PositiveSmallIntegerField(default=5)

    panels = [FieldPanel("name"), FieldPanel("guidance"), FieldPanel("max_score")]

    def __str__(self) -> str:
        return self.name


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    MORE_INFORMATION = "more_information", "More information needed"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    WITHDRAWN = "withdrawn", "Withdrawn"


# An organisation may have only one of these per round.
OPEN_APPLICATION_STATUSES = ("draft", "submitted", "more_information", "approved")


class Application(models.Model):
    round = models.ForeignKey(Round, on_delete=models.PROTECT, related_name="applications")
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="grant_applications"
    )
    title = models.CharField("project title", max_length=200)
    development_area = models.CharField(max_length=30, choices=DevelopmentArea.choices)
    amount_requested_pence = models.BigIntegerField(default=0)
    summary = models.TextField("project summary", blank=True)
    answers = models.JSONField(default=dict, blank=True)
    cited_assessment = models.ForeignKey(
        "assessments.Assessment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cited_by",
    )
    status = models.CharField(
        max_length=20, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["round", "organisation"],
                condition=Q(status__in=OPEN_APPLICATION_STATUSES),
                name="one_open_application_per_round",
            ),
            models.CheckConstraint(
                condition=Q(amount_requested_pence__gte=0), name="application_amount_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.organisation})"

    @property
    def reference(self) -> str:
        return f"IF-{self.pk:05d}"

    @property
    def editable(self) -> bool:
        return self.status in (ApplicationStatus.DRAFT, ApplicationStatus.MORE_INFORMATION)


def attachment_upload_to(instance, filename: str) -> str:
    return f"grants/{instance.application_id}/{filename}"


class Attachment(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to=attachment_upload_to)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return self.title


class ReviewerAssignment(models.Model):
    """A grant officer asked to review one application. A declared conflict takes them off it."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="assignments"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="grant_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(default=timezone.now)
    conflict_declared = models.BooleanField(default=False)
    conflict_reason = models.TextField(blank=True)
    scores = models.JSONField(default=dict, blank=True, help_text="Criterion id → score.")
    comments = models.TextField(blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"], name="reviewer_assigned_once"
            ),
            models.CheckConstraint(
                condition=Q(conflict_declared=False) | Q(scored_at__isnull=True),
                name="conflicted_reviewer_does_not_score",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reviewer} on {self.application}"

    @property
    def total_score(self) -> int | None:
        return sum(int(v) for v in self.scores.values()) if self.scored_at else None


class Outcome(models.TextChoices):
    APPROVE = "approve", "Approve"
    DECLINE = "decline", "Decline"
    MORE_INFORMATION = "more_information", "Ask for more information"


class Determination(models.Model):
    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="determinations"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    reasons = models.TextField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} – {self.application}"


class Award(models.Model):
    application = models.OneToOneField(Application, on_delete=models.PROTECT, related_name="award")
    amount_pence = models.BigIntegerField(validators=[MinValueValidator(1)])
    agreement_text = models.TextField()
    awarded_at = models.DateTimeField(default=timezone.now)
    starts_on = models.DateField()
    ends_on = models.DateField()
    agreement_accepted_at = models.DateTimeField(null=True, blank=True)
    agreement_accepted_name = models.CharField(max_length=200, blank=True)
    agreement_accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-awarded_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="award_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.application.title}: {self.amount_pence}p"

    @property
    def organisation(self) -> Organisation:
        return self.application.organisation

    @property
    def accepted(self) -> bool:
        return self.agreement_accepted_at is not None


class PaymentMethod(models.TextChoices):
    STRIPE_TRANSFER = "stripe_transfer", "Stripe Connect transfer"
    BANK = "bank", "Bank payment"


class Tranche(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="tranches")
    number = models.PositiveSmallIntegerField()
    amount_pence = models.BigIntegerField(validators=[MinValueValidator(1)])
    due_on = models.DateField()
    paid_at = models.DateTimeField(null=True, blank=True)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices, blank=True)
    reference = models.CharField(max_length=120, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["award", "number"]
        constraints = [
            models.UniqueConstraint(fields=["award", "number"], name="tranche_number_once"),
            models.CheckConstraint(condition=Q(amount_pence__gt=0), name="tranche_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Tranche {self.number}: {self.amount_pence}p"


class ReportKind(models.TextChoices):
    QUARTERLY = "quarterly", "Quarterly report"
    LESSONS = "lessons", "Lessons-learnt report"
    FINAL = "final", "Final evaluation"


class RiskLevel(models.TextChoices):
    GREEN = "green", "Green"
    AMBER = "amber", "Amber"
    RED = "red", "Red"


class MonitoringReport(models.Model):
    """A report the grantee owes: four quarterly, a lessons-learnt report by the end of
    Q3 and a final evaluation. Created as due when the award is made."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="reports")
    kind = models.CharField(max_length=10, choices=ReportKind.choices)
    period = models.PositiveSmallIntegerField(
        default=0, help_text="Quarter number for quarterly reports."
    )
    due_on = models.DateField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    personal_outcomes = models.TextField("personal outcomes for individuals", blank=True)
    community_impact = models.TextField("impact on groups and communities", blank=True)
    spend_to_date_pence = models.BigIntegerField(null=True, blank=True)
    risks = models.TextField(blank=True)
    risk_level = models.CharField(max_length=5, choices=RiskLevel.choices, blank=True)
    body = models.TextField(blank=True, help_text="Lessons learnt, or the evaluation.")

    class Meta:
        ordering = ["due_on", "kind", "period"]
        constraints = [
            models.UniqueConstraint(fields=["award", "kind", "period"], name="report_due_once"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        if self.kind == ReportKind.QUARTERLY:
            return f"Quarter {self.period} report"
        return self.get_kind_display()

    def days_overdue(self, today) -> int:
        if self.submitted_at is not None or today <= self.due_on:
            return 0
        return (today - self.due_on).days


class ReminderKind(models.TextChoices):
    BEFORE = "before", "Due soon"
    AFTER = "after", "Overdue"


class ReportReminder(models.Model):
    """A reminder e-mail sent about one report; unique so a rerun never sends twice."""

    report = models.ForeignKey(MonitoringReport, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=10, choices=ReminderKind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "kind"], name="report_reminder_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} reminder for {self.report}"
