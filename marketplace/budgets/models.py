"""Personal budgets, their support plans, the double-entry ledger and prepayment cards.

Money is integer pence everywhere. The ledger is the truth about money: a
balance is the sum of an account's postings, postings in one journal entry
sum to zero, and entries are never changed or deleted (a mistake is undone
by a reversal entry).
"""

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q

from marketplace.accounts.models import BudgetHolder, CareGroup
from marketplace.providers.taxonomy import ServiceCategory


class LoadSchedule(models.TextChoices):
    WEEKLY = "weekly", "Every week"
    FOUR_WEEKLY = "four_weekly", "Every 4 weeks"


LOAD_PERIOD_DAYS = {LoadSchedule.WEEKLY: 7, LoadSchedule.FOUR_WEEKLY: 28}


class Deployment(models.TextChoices):
    DIRECT_PAYMENT = "direct_payment", "Direct payment"
    COUNCIL_MANAGED = "council_managed", "Managed by the council"
    MIXED = "mixed", "Mixed: part direct payment, part managed"


class BudgetStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUSPENDED = "suspended", "Suspended"
    CLOSED = "closed", "Closed"


class PersonalBudget(models.Model):
    """Money the council allocates to one person for their support plan, for a period."""

    budget_holder = models.ForeignKey(
        BudgetHolder, on_delete=models.PROTECT, related_name="personal_budgets"
    )
    annual_amount_pence = models.PositiveBigIntegerField()
    load_schedule = models.CharField(
        max_length=12, choices=LoadSchedule.choices, default=LoadSchedule.FOUR_WEEKLY
    )
    starts_on = models.DateField()
    ends_on = models.DateField()
    care_group = models.CharField(max_length=32, choices=CareGroup.choices)
    deployment = models.CharField(
        max_length=20, choices=Deployment.choices, default=Deployment.DIRECT_PAYMENT
    )
    status = models.CharField(
        max_length=10, choices=BudgetStatus.choices, default=BudgetStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="budget_ends_after_it_starts"
            )
        ]

    def __str__(self) -> str:
        return f"Personal budget of {self.budget_holder.full_name} from {self.starts_on:%d %B %Y}"

    @property
    def period_days(self) -> int:
        return LOAD_PERIOD_DAYS[LoadSchedule(self.load_schedule)]

    @property
    def load_amount_pence(self) -> int:
        """One load: the annual amount spread over 52 weeks."""
        return self.annual_amount_pence * self.period_days // 364

    @property
    def weekly_funding_pence(self) -> int:
        return self.annual_amount_pence // 52

    def load_plan(self) -> list[tuple[date, int]]:
        """Each load's date and amount; a last, shorter period is paid pro rata."""
        step = timedelta(days=self.period_days)
        plan, day = [], self.starts_on
        while day <= self.ends_on:
            days = min(self.period_days, (self.ends_on - day).days + 1)
            plan.append((day, self.annual_amount_pence * days // 364))
            day += step
        return plan

    def is_open_on(self, day: date) -> bool:
        return self.status == BudgetStatus.ACTIVE and self.starts_on <= day <= self.ends_on


class SupportPlan(models.Model):
    """What the budget is for, agreed with a social worker, and what the card may buy."""

    budget = models.OneToOneField(
        PersonalBudget, on_delete=models.CASCADE, related_name="support_plan"
    )
    outcomes = models.JSONField(
        default=list, blank=True, help_text="The outcomes the person wants, one per item."
    )
    allowed_categories = models.JSONField(
        default=list,
        blank=True,
        help_text="Service categories the budget may be spent on. Empty means any category.",
    )
    cash_allowed = models.BooleanField(default=False)
    cash_limit_pence = models.PositiveBigIntegerField(
        default=0, help_text="Most cash that may be taken out in any 4 weeks."
    )
    approval_required_above_pence = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Marketplace payments above this need a monitoring officer's approval.",
    )
    agreed_on = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Support plan for {self.budget}"

    def allows_category(self, category: str) -> bool:
        return not self.allowed_categories or category in self.allowed_categories

    @property
    def allowed_category_labels(self) -> list[str]:
        return [ServiceCategory(value).label for value in self.allowed_categories]


class LoadStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    POSTED = "posted", "Paid in"
    CANCELLED = "cancelled", "Cancelled"


class BudgetLoad(models.Model):
    """One scheduled payment of council money into the budget."""

    budget = models.ForeignKey(PersonalBudget, on_delete=models.CASCADE, related_name="loads")
    due_on = models.DateField()
    amount_pence = models.PositiveBigIntegerField()
    status = models.CharField(
        max_length=10, choices=LoadStatus.choices, default=LoadStatus.SCHEDULED
    )

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.UniqueConstraint(fields=["budget", "due_on"], name="one_load_per_budget_per_day")
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"Load of {self.amount_pence}p on {self.due_on}"


# --- The ledger -------------------------------------------------------------


class AccountKind(models.TextChoices):
    # Sign convention: a positive balance on HOLDER_FUNDS is money the person
    # can spend; the other accounts mirror where it came from or went.
    HOLDER_FUNDS = "holder_funds", "Budget holder funds"
    COUNCIL_FUNDING = "council_funding", "Council funding"
    CARD_CLEARING = "card_clearing", "Card scheme clearing"
    PROVIDER_PAYABLE = "provider_payable", "Provider settlement"
    RECOVERED = "recovered", "Recovered by the council"


class Account(models.Model):
    """One ledger account of one budget. ``balance_pence`` is a cache of the postings' sum."""

    budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, related_name="accounts")
    kind = models.CharField(max_length=20, choices=AccountKind.choices)
    balance_pence = models.BigIntegerField(
        default=0, help_text="Kept equal to the sum of postings; checked by `ledger_check`."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["budget", "kind"], name="one_account_per_kind_per_budget"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of budget {self.budget_id}"


class EntryKind(models.TextChoices):
    LOAD = "load", "Money paid in"
    CARD_SPEND = "card_spend", "Card payment"
    MARKETPLACE_PAYMENT = "marketplace_payment", "Payment to a provider"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Correction"
    CLAWBACK = "clawback", "Money recovered by the council"


# Checked references: the high-volume ledger and card transaction tables, written in sets by
# the statement import, do not use a per-row foreign-key constraint (PostgreSQL checks each
# inserted row with its own lookup, which was the largest single cost of an import).
# PostgreSQL still proves every such reference (checked_references.py): after each INSERT
# or UPDATE statement a trigger checks all the statement's references with one anti-join
# and locks the parents it points at (FOR KEY SHARE, once per distinct parent, as a
# foreign key would lock each), and a parent row that is still referenced cannot be
# deleted or have its id changed. ``on_delete`` still applies in the ORM (on SQLite, the
# one-writer embedded default, that and the writers are all there is: see
# checked_references.py). Such a reference is declared with ``db_constraint=False``.


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise ValueError("Ledger records cannot be changed; post a reversal instead.")

    def delete(self):
        raise ValueError("Ledger records cannot be deleted; post a reversal instead.")


class JournalEntry(models.Model):
    """One balanced movement of money, traceable to the event that caused it."""

    # A checked reference (the note above); the (budget, occurred_on) index serves it.
    budget = models.ForeignKey(
        PersonalBudget,
        on_delete=models.PROTECT,
        related_name="journal_entries",
        db_constraint=False,
        db_index=False,
    )
    kind = models.CharField(max_length=20, choices=EntryKind.choices)
    source_type = models.CharField(
        max_length=40,
        help_text="What caused it: budget_load, stripe_transaction, statement_line, ...",
    )
    source_id = models.CharField(max_length=120)
    memo = models.CharField(max_length=300, blank=True)
    # Entries are reached by budget (the (budget, occurred_on) index) or by posting, never by
    # date alone: no index of its own (each costs every row of an import).
    occurred_on = models.DateField()
    posted_at = models.DateTimeField(auto_now_add=True)
    # At most one reversal per entry (the partial unique constraint below): only reversals
    # carry the index, so the card spend an import writes pays for none.
    reverses = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversals",
        db_index=False,
    )

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        verbose_name_plural = "journal entries"
        constraints = [
            models.UniqueConstraint(
                fields=["source_type", "source_id", "kind"],
                name="journal_entry_posted_once_per_source",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(reverses__isnull=False),
                name="journal_entry_reversed_once",
            ),
        ]
        indexes = [models.Index(fields=["budget", "occurred_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.source_type}:{self.source_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Journal entries cannot be changed; post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Journal entries cannot be deleted; post a reversal instead.")

    @property
    def reversed_by(self) -> "JournalEntry | None":
        """The entry that undid this one, if any (there is at most one)."""
        return self.reversals.first()


class Posting(models.Model):
    """One line of a journal entry: an amount on one account. Never zero."""

    # Checked references (the note above JournalEntry).
    entry = models.ForeignKey(
        JournalEntry, on_delete=models.PROTECT, related_name="postings", db_constraint=False
    )
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="postings", db_constraint=False
    )
    amount_pence = models.BigIntegerField()

    objects = ImmutableQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount_pence=0), name="posting_not_zero")
        ]

    def __str__(self) -> str:
        return f"{self.amount_pence}p to {self.account}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Postings cannot be changed; post a reversal instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Postings cannot be deleted; post a reversal instead.")


# --- Cards --------------------------------------------------------------------


class CardScheme(models.TextChoices):
    STRIPE = "stripe", "Stripe Issuing"
    DEFAULT = "default", "Council card (standard statement)"
    ALLPAY = "allpay", "allpay"
    PFS = "pfs", "PFS"
    EML = "eml", "EML"


class CardStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    # Stripe says "inactive" both before activation and while frozen by the council.
    INACTIVE = "inactive", "Not active"
    CANCELED = "canceled", "Cancelled"


class Card(models.Model):
    """A prepayment card on a budget: a Stripe Issuing card or a council scheme's card."""

    budget = models.ForeignKey(PersonalBudget, on_delete=models.PROTECT, related_name="cards")
    scheme = models.CharField(max_length=10, choices=CardScheme.choices, default=CardScheme.STRIPE)
    reference = models.CharField(
        max_length=64,
        help_text="Stripe card id (ic_...) or the scheme's card or account reference.",
    )
    stripe_cardholder_id = models.CharField(max_length=64, blank=True)
    last4 = models.CharField(max_length=4, blank=True)
    status = models.CharField(max_length=10, choices=CardStatus.choices, default=CardStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "reference"], name="card_reference_unique_per_scheme"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_scheme_display()} card ending {self.last4 or '----'}"


class DeclineReason(models.TextChoices):
    UNKNOWN_CARD = "unknown_card", "The card is not on a budget"
    CARD_INACTIVE = "card_inactive", "The card is not active"
    BUDGET_CLOSED = "budget_closed", "The budget is not open"
    BLOCKED_CATEGORY = "blocked_category", "A blocked kind of shop"
    NOT_IN_PLAN = "not_in_plan", "Not in the support plan"
    CASH_NOT_ALLOWED = "cash_not_allowed", "Cash is not allowed"
    CASH_LIMIT = "cash_limit", "Over the cash limit"
    INSUFFICIENT_FUNDS = "insufficient_funds", "Not enough money"
    NOT_DECIDED = "not_decided", "Not decided in time"


class AuthorizationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    CLOSED = "closed", "Closed"
    REVERSED = "reversed", "Reversed"


class Authorization(models.Model):
    """A card's request to spend, our decision and why. Approved and pending means money is held."""

    stripe_authorization_id = models.CharField(max_length=64, unique=True)
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.PROTECT, related_name="authorizations"
    )
    budget = models.ForeignKey(
        PersonalBudget,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="authorizations",
    )
    amount_pence = models.BigIntegerField()
    merchant_name = models.CharField(max_length=200, blank=True)
    merchant_category = models.CharField(
        max_length=80, blank=True, help_text="Stripe's category name."
    )
    merchant_category_code = models.CharField(max_length=4, blank=True)
    merchant_postcode = models.CharField(max_length=12, blank=True)
    merchant_id = models.CharField(max_length=64, blank=True)
    approved = models.BooleanField()
    decline_reason = models.CharField(max_length=20, choices=DeclineReason.choices, blank=True)
    decline_message = models.CharField(max_length=200, blank=True)
    status = models.CharField(
        max_length=10, choices=AuthorizationStatus.choices, default=AuthorizationStatus.PENDING
    )
    decided_at = models.DateTimeField()

    class Meta:
        ordering = ["-decided_at"]
        indexes = [
            models.Index(fields=["budget", "approved", "status"]),
            models.Index(fields=["decline_reason", "decided_at"]),
            # Every real-time decision sums the budget's holds: only the holds
            # are in this index, with their amounts, so the sum reads nothing else.
            models.Index(
                fields=["budget"],
                include=["amount_pence"],
                condition=Q(approved=True, status="pending"),
                name="authorization_holds_by_budget",
            ),
        ]

    def __str__(self) -> str:
        verdict = "approved" if self.approved else f"declined ({self.decline_reason})"
        return f"{self.amount_pence}p at {self.merchant_name}: {verdict}"

    @property
    def is_hold(self) -> bool:
        return self.approved and self.status == AuthorizationStatus.PENDING


class CardTransactionType(models.TextChoices):
    CAPTURE = "capture", "Payment"
    REFUND = "refund", "Refund"


class CardTransactionSource(models.TextChoices):
    STRIPE = "stripe", "Stripe Issuing"
    STATEMENT = "statement", "Imported statement"


class CardTransaction(models.Model):
    """Money that actually moved on a card: a capture or a refund, from Stripe or a statement.

    ``(source, reference)`` is the natural key: Stripe's transaction id, or a
    statement line's key, so a redelivered event or re-imported line is ignored.
    A refund whose capture has not arrived yet waits (``held``) and is posted
    when the capture comes.
    """

    source = models.CharField(max_length=10, choices=CardTransactionSource.choices)
    reference = models.CharField(max_length=120)
    # budget, card, entry and statement_import are checked references (note above JournalEntry).
    budget = models.ForeignKey(
        PersonalBudget,
        on_delete=models.PROTECT,
        related_name="card_transactions",
        db_constraint=False,
    )
    # Nothing reads transactions by card, and cards are cancelled, never deleted: no index
    # (each costs every row of an import; deleting a card scans for its transactions).
    card = models.ForeignKey(
        Card,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_constraint=False,
        db_index=False,
    )
    # Indexed only where set (Stripe's): statement lines have none.
    stripe_authorization_id = models.CharField(max_length=64, blank=True)
    type = models.CharField(max_length=10, choices=CardTransactionType.choices)
    amount_pence = models.BigIntegerField(help_text="Positive: a payment. Negative: a refund.")
    merchant_name = models.CharField(max_length=200, blank=True)
    merchant_category_code = models.CharField(max_length=4, blank=True)
    merchant_postcode = models.CharField(max_length=12, blank=True)
    merchant_id = models.CharField(max_length=64, blank=True)
    occurred_on = models.DateField()
    held = models.BooleanField(
        default=False, help_text="A refund waiting for the payment it refunds."
    )
    entry = models.OneToOneField(
        JournalEntry,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="card_transaction",
        db_constraint=False,
    )
    # Nothing reads transactions by import, and imports are records, never deleted: no index
    # (every line an import writes would pay for it, all under the one import's id).
    statement_import = models.ForeignKey(
        "StatementImport",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transactions",
        db_constraint=False,
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "reference"], name="card_transaction_once_per_source"
            )
        ]
        indexes = [
            models.Index(
                fields=["stripe_authorization_id"],
                condition=~Q(stripe_authorization_id=""),
                name="card_transaction_authorization",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} {self.amount_pence}p at {self.merchant_name}"


class StripeEvent(models.Model):
    """Every Stripe event we accepted, once: the unique id makes redelivery harmless."""

    event_id = models.CharField(max_length=80, unique=True)
    type = models.CharField(max_length=80, db_index=True)
    payload = models.JSONField()
    response = models.JSONField(
        null=True, blank=True, help_text="What we answered, for events that need an answer."
    )
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class StatementImport(models.Model):
    """One card statement file imported, all or nothing."""

    scheme = models.CharField(max_length=10, choices=CardScheme.choices)
    filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_already_imported = models.PositiveIntegerField(default=0)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_scheme_display()})"
