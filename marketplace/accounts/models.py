from datetime import date
from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .roles import ROLE_GROUPS, STAFF_ROLES, Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> "User":
        if not email:
            raise ValueError("Every account needs an email address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in. People sign in with their email address."""

    email = models.EmailField("email address", unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    is_staff = models.BooleanField(
        default=False, help_text="Can open the content management and admin screens."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["last_name", "first_name", "email"]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @cached_property
    def roles(self) -> frozenset[Role]:
        """Every role this person holds today."""
        if not self.is_authenticated or not self.is_active:
            return frozenset()
        held: set[Role] = set()
        if self.is_superuser:
            held.add(Role.ADMINISTRATOR)
        group_names = set(self.groups.values_list("name", flat=True))
        for role, names in ROLE_GROUPS.items():
            if group_names.intersection(names):
                held.add(role)
        if BudgetHolder.objects.filter(user=self).exists():
            held.add(Role.BUDGET_HOLDER)
        if Delegation.objects.current().filter(proxy=self).exists():
            held.add(Role.PROXY)
        if self.provider_memberships.exists():
            held.add(Role.PROVIDER_STAFF)
        return frozenset(held)

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def needs_two_factor(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


class CareGroup(models.TextChoices):
    OLDER_PEOPLE = "older_people", "Older people (65 and over)"
    PHYSICAL_SENSORY = "physical_sensory", "Physical or sensory disability (18 to 64)"
    LEARNING_DISABILITY = "learning_disability", "Learning disability"
    MENTAL_HEALTH = "mental_health", "Mental health"


class BudgetHolder(models.Model):
    """A person with a personal budget: the council's record of them.

    They may have no account of their own when someone acts for them.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="budget_holder",
    )
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    care_group = models.CharField(max_length=32, choices=CareGroup.choices)
    postcode = models.CharField(max_length=10)
    council_reference = models.CharField(max_length=30, unique=True)
    communication_needs = models.TextField(
        blank=True, help_text="For example: easy read, large print, British Sign Language."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.council_reference})"

    @property
    def postcode_district(self) -> str:
        """The outward code (e.g. ``N3``): the finest place we show in aggregates."""
        return self.postcode.split(" ")[0].upper() if self.postcode else ""

    @property
    def display_name(self) -> str:
        return self.preferred_name or self.full_name.split(" ")[0]


class Relationship(models.TextChoices):
    CARER = "carer", "Carer"
    RELATIVE = "relative", "Relative"
    ADVOCATE = "advocate", "Advocate"
    APPOINTEE = "appointee", "Appointee"
    BROKER = "broker", "Support broker"


class DelegationQuerySet(models.QuerySet):
    def current(self, on: date | None = None) -> "DelegationQuerySet":
        on = on or timezone.localdate()
        return self.filter(revoked_at__isnull=True, starts_on__lte=on).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=on)
        )


class Delegation(models.Model):
    """The right of a proxy to act for a budget holder, within a scope and a period."""

    budget_holder = models.ForeignKey(
        BudgetHolder, on_delete=models.CASCADE, related_name="delegations"
    )
    proxy = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="delegations"
    )
    relationship = models.CharField(max_length=20, choices=Relationship.choices)
    may_pay = models.BooleanField(
        "may pay providers", default=False, help_text="Pay invoices and bookings from the budget."
    )
    may_review = models.BooleanField(
        "may write reviews", default=True, help_text="Rate providers on the person's behalf."
    )
    may_manage = models.BooleanField(
        "may manage the budget",
        default=False,
        help_text="Manage the card, answer the council's questions and update details.",
    )
    starts_on = models.DateField(default=timezone.localdate)
    ends_on = models.DateField(null=True, blank=True, help_text="Leave empty for no end date.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_reason = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = DelegationQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on")),
                name="delegation_ends_after_it_starts",
            )
        ]

    def __str__(self) -> str:
        return f"{self.proxy} acts for {self.budget_holder.full_name} as {self.get_relationship_display()}"

    def is_current(self, on: date | None = None) -> bool:
        on = on or timezone.localdate()
        return (
            self.revoked_at is None
            and self.starts_on <= on
            and (self.ends_on is None or self.ends_on >= on)
        )

    @property
    def scope_labels(self) -> list[str]:
        labels = ["see the budget and statements"]
        if self.may_pay:
            labels.append("pay providers")
        if self.may_review:
            labels.append("write reviews")
        if self.may_manage:
            labels.append("manage the budget")
        return labels


class AuditAction(models.TextChoices):
    VIEWED = "viewed", "Viewed"
    CREATED = "created", "Created"
    CHANGED = "changed", "Changed"
    DELETED = "deleted", "Deleted"
    EXPORTED = "exported", "Exported"


class AuditEvent(models.Model):
    """Who viewed or changed personal data, and when. Never edited, never deleted."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    budget_holder = models.ForeignKey(
        BudgetHolder,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
        help_text="Whose personal data this was.",
    )
    summary = models.CharField(max_length=300)
    changed_fields = models.JSONField(default=list, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.summary}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events cannot be deleted.")
