"""Direct-payment monitoring: council thresholds, flags raised by rules, and case work."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from marketplace.accounts.models import BudgetHolder
from marketplace.budgets.models import PersonalBudget


@register_setting(icon="warning")
class MonitoringSettings(BaseGenericSetting):
    """The council's thresholds for the monitoring rules.

    Editable by monitoring officers at /monitoring/settings/ and in the
    Wagtail settings menu.
    """

    surplus_weeks = models.PositiveSmallIntegerField(
        "surplus limit in weeks of funding",
        default=8,
        validators=[MinValueValidator(1)],
        help_text="Flag a budget whose balance is more than this many weeks of funding.",
    )
    blocked_attempts_days = models.PositiveSmallIntegerField(
        "days to look back for blocked card attempts",
        default=30,
        validators=[MinValueValidator(1)],
    )
    blocked_attempts_count = models.PositiveSmallIntegerField(
        "blocked card attempts before a flag",
        default=1,
        validators=[MinValueValidator(1)],
    )
    cash_days = models.PositiveSmallIntegerField(
        "days to look back for cash withdrawals", default=90, validators=[MinValueValidator(1)]
    )
    dormant_days = models.PositiveSmallIntegerField(
        "days without card use before a card counts as dormant",
        default=60,
        validators=[MinValueValidator(7)],
    )
    round_amount_pence = models.PositiveIntegerField(
        "round amount (pence)",
        default=5000,
        validators=[MinValueValidator(100)],
        help_text="Payments that are an exact multiple of this are round amounts (5000 = £50).",
    )
    round_transfers_count = models.PositiveSmallIntegerField(
        "round payments to unknown payees before a flag",
        default=3,
        validators=[MinValueValidator(2)],
    )
    round_transfers_days = models.PositiveSmallIntegerField(
        "days to look back for round payments", default=90, validators=[MinValueValidator(1)]
    )

    class Meta:
        verbose_name = "monitoring thresholds"


class Rule(models.TextChoices):
    SURPLUS = "surplus", "Unspent money above the limit"
    BLOCKED_CATEGORY = "blocked_category", "Card used at a blocked kind of shop"
    CASH_ABOVE_PLAN = "cash_above_plan", "More cash taken than the plan allows"
    DORMANT_CARD = "dormant_card", "Card not used while the balance rises"
    AFTER_END_DATE = "after_end_date", "Spending after the budget ended"
    ROUND_TRANSFERS = "round_transfers", "Repeated round payments to unknown payees"


class CaseStatus(models.TextChoices):
    OPEN = "open", "Open"
    AWAITING_EVIDENCE = "awaiting_evidence", "Waiting for an answer"
    CLOSED = "closed", "Closed"


class Outcome(models.TextChoices):
    NO_ACTION = "no_action", "No action needed"
    EXPLAINED = "explained", "Explained by the budget holder"
    CLAWBACK = "clawback", "Money recovered"
    PLAN_REVIEW = "plan_review", "Support plan to be reviewed"
    REFERRED = "referred", "Referred for safeguarding or fraud investigation"


class MonitoringCaseQuerySet(models.QuerySet):
    def open(self) -> "MonitoringCaseQuerySet":
        return self.exclude(status=CaseStatus.CLOSED)


class MonitoringCase(models.Model):
    """A flag raised by a monitoring rule about one budget, and the officer's work on it.

    At most one open case per rule per budget (a partial unique constraint),
    so running the rules again adds evidence, not duplicates; a person with a
    new budget year gets a case of its own. ``budget_holder`` is the budget's
    holder, kept for the queue and the audit trail.
    """

    budget = models.ForeignKey(
        PersonalBudget, on_delete=models.PROTECT, related_name="monitoring_cases"
    )
    budget_holder = models.ForeignKey(
        BudgetHolder, on_delete=models.PROTECT, related_name="monitoring_cases"
    )
    rule = models.CharField(max_length=20, choices=Rule.choices)
    status = models.CharField(
        max_length=20, choices=CaseStatus.choices, default=CaseStatus.OPEN, db_index=True
    )
    summary = models.CharField(max_length=300)
    evidence = models.JSONField(default=dict, blank=True)
    amount_pence = models.BigIntegerField(
        default=0, help_text="The amount the rule found (surplus, cash over the limit...)."
    )
    opened_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    objects = MonitoringCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "rule"],
                condition=~Q(status="closed"),
                name="monitoring_one_open_case_per_rule_per_budget",
            ),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk}: {self.get_rule_display()}"

    @property
    def reference(self) -> str:
        return f"MON-{self.pk:05d}"

    @property
    def is_open(self) -> bool:
        return self.status != CaseStatus.CLOSED


class CaseNote(models.Model):
    case = models.ForeignKey(MonitoringCase, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"Note on case {self.case_id}"


class EvidenceRequest(models.Model):
    """A question from the monitoring officer that the budget holder or a proxy answers."""

    case = models.ForeignKey(
        MonitoringCase, on_delete=models.CASCADE, related_name="evidence_requests"
    )
    message = models.TextField()
    due_on = models.DateField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Evidence request on case {self.case_id}"

    @property
    def answered(self) -> bool:
        return self.responded_at is not None

    @property
    def overdue(self) -> bool:
        return not self.answered and self.due_on < timezone.localdate()


class Clawback(models.Model):
    """Money the council recovers from a budget, posted to the ledger once confirmed."""

    case = models.ForeignKey(MonitoringCase, on_delete=models.PROTECT, related_name="clawbacks")
    budget_holder = models.ForeignKey(
        BudgetHolder, on_delete=models.PROTECT, related_name="clawbacks"
    )
    amount_pence = models.BigIntegerField()
    reason = models.CharField(max_length=300)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ledger_reference = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_pence__gt=0), name="clawback_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Clawback of {self.amount_pence}p on case {self.case_id}"
