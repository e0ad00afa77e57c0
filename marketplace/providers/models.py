"""Providers and their services, modelled on Open Referral UK (HSDS-UK-3.0).

Organisations and services are moderated Wagtail snippets: the database row of
a published record is the live version the public sees; a provider's or an
editor's unapproved change lives only in a revision until a moderator approves
it. Every list-like attribute of a service (care groups, prices, areas,
locations, opening days, languages, accessibility) is a child row, so search
filters are plain joins on both SQLite and PostgreSQL, and the child rows travel
with the service in each revision (ParentalKey).
"""

import secrets
import uuid
from datetime import timedelta

from modelcluster.fields import ParentalKey
from modelcluster.models import ClusterableModel

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, MultiFieldPanel
from wagtail.models import (
    DraftStateMixin,
    LockableMixin,
    PreviewableMixin,
    RevisionMixin,
    WorkflowMixin,
)

from marketplace.accounts.models import CareGroup

from .taxonomy import ServiceCategory

# A record nobody has confirmed for this long is flagged as possibly out of date.
STALE_AFTER = timedelta(days=182)


class WebsiteField(models.URLField):
    """A web address; one typed without a scheme ("example.org") is read as https://,
    Django 6's default, in every form built from the model (ours and Wagtail's)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"assume_scheme": "https", **kwargs})


class Sector(models.TextChoices):
    COUNCIL = "council", "Council"
    VOLUNTARY = "voluntary", "Voluntary or third sector"
    PRIVATE = "private", "Private"
    SOCIAL_ENTERPRISE = "social_enterprise", "Social enterprise"
    USER_LED = "user_led", "User-led organisation"
    CONSORTIUM = "consortium", "Consortium"


class OrganisationStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    CLOSED = "closed", "Closed"


class OrganisationQuerySet(models.QuerySet):
    def published(self) -> "OrganisationQuerySet":
        """What the public may see: the live, open organisations."""
        return self.filter(live=True, status=OrganisationStatus.ACTIVE)


class Organisation(WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, models.Model):
    """A care provider: any sector, on an equal footing (ORUK ``organization``)."""

    oruk_id = models.UUIDField("Open Referral id", default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    consortium = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        limit_choices_to={"sector": Sector.CONSORTIUM},
        help_text="The consortium this organisation belongs to, if any.",
    )
    description = models.TextField(blank=True)
    charity_number = models.CharField("registered charity number", max_length=12, blank=True)
    company_number = models.CharField("Companies House number", max_length=10, blank=True)
    cqc_provider_id = models.CharField(
        "CQC provider id", max_length=20, blank=True, help_text="For example 1-101613148."
    )
    website = WebsiteField(blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    logo = models.ForeignKey(
        "wagtailimages.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        max_length=10, choices=OrganisationStatus.choices, default=OrganisationStatus.ACTIVE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrganisationQuerySet.as_manager()

    panels = [
        FieldPanel("name"),
        FieldPanel("slug"),
        FieldRowPanel([FieldPanel("sector"), FieldPanel("status")]),
        FieldPanel("consortium"),
        FieldPanel("description"),
        MultiFieldPanel(
            [
                FieldPanel("charity_number"),
                FieldPanel("company_number"),
                FieldPanel("cqc_provider_id"),
            ],
            heading="Registrations",
        ),
        MultiFieldPanel(
            [FieldPanel("website"), FieldPanel("email"), FieldPanel("phone"), FieldPanel("logo")],
            heading="Contact",
        ),
    ]

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = _unique_slug(self.name, exclude_pk=self.pk)
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        """The public profile (the search app's page)."""
        return reverse("search:profile", args=[self.slug])

    def get_portal_url(self) -> str:
        return reverse("providers:portal_organisation", args=[self.pk])


def _unique_slug(name: str, *, exclude_pk: int | None) -> str:
    base = slugify(name)[:200] or "provider"
    slug, number = base, 2
    while Organisation.objects.filter(slug=slug).exclude(pk=exclude_pk).exists():
        slug = f"{base}-{number}"
        number += 1
    return slug


class MembershipRole(models.TextChoices):
    OWNER = "owner", "Owner"
    EDITOR = "editor", "Editor"


class Membership(models.Model):
    """A person who works for a provider and may act for it here."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="provider_memberships"
    )
    role = models.CharField(max_length=10, choices=MembershipRole.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="one_membership_each")
        ]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) at {self.organisation}"


def _invitation_token() -> str:
    return secrets.token_urlsafe(32)


class Invitation(models.Model):
    """An owner's invitation for someone to join the organisation's team, by email link."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(
        max_length=10, choices=MembershipRole.choices, default=MembershipRole.EDITOR
    )
    token = models.CharField(max_length=64, unique=True, default=_invitation_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Invitation for {self.email} to {self.organisation}"

    @property
    def is_open(self) -> bool:
        return (
            self.accepted_at is None
            and self.cancelled_at is None
            and self.expires_at > timezone.now()
        )


class ClaimStatus(models.TextChoices):
    PENDING = "pending", "Waiting for a decision"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class OrganisationClaim(models.Model):
    """A person asking to manage an organisation already in the directory; an editor decides."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="claims")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organisation_claims"
    )
    job_title = models.CharField(max_length=100)
    evidence = models.TextField(
        help_text="How the council can check you work there, for example your work email or phone."
    )
    status = models.CharField(
        max_length=10, choices=ClaimStatus.choices, default=ClaimStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(status="pending"),
                name="one_pending_claim_each",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} claims {self.organisation}"


class ServedGroup(models.TextChoices):
    """Who a service is for: the council's care groups plus carers and self-funders."""

    OLDER_PEOPLE = CareGroup.OLDER_PEOPLE.value, CareGroup.OLDER_PEOPLE.label
    PHYSICAL_SENSORY = CareGroup.PHYSICAL_SENSORY.value, CareGroup.PHYSICAL_SENSORY.label
    LEARNING_DISABILITY = CareGroup.LEARNING_DISABILITY.value, CareGroup.LEARNING_DISABILITY.label
    MENTAL_HEALTH = CareGroup.MENTAL_HEALTH.value, CareGroup.MENTAL_HEALTH.label
    CARERS = "carers", "Carers"
    SELF_FUNDERS = "self_funders", "People paying for their own care"


class ServiceStatus(models.TextChoices):
    """ORUK's service status codes (the public label says what it means)."""

    ACTIVE = "active", "Open"
    TEMPORARILY_CLOSED = "temporarily closed", "Temporarily closed"
    INACTIVE = "inactive", "Not currently running"
    DEFUNCT = "defunct", "Closed permanently"


class CqcRating(models.TextChoices):
    OUTSTANDING = "Outstanding", "Outstanding"
    GOOD = "Good", "Good"
    REQUIRES_IMPROVEMENT = "Requires improvement", "Requires improvement"
    INADEQUATE = "Inadequate", "Inadequate"


# Best first: used for "rating at least" filters and sorting.
CQC_RATING_RANK = {
    CqcRating.OUTSTANDING: 4,
    CqcRating.GOOD: 3,
    CqcRating.REQUIRES_IMPROVEMENT: 2,
    CqcRating.INADEQUATE: 1,
}


class ServiceQuerySet(models.QuerySet):
    def published(self) -> "ServiceQuerySet":
        """What the public may see: live services of live organisations, open or closed for now."""
        return self.filter(
            live=True,
            organisation__live=True,
            organisation__status=OrganisationStatus.ACTIVE,
            status__in=[ServiceStatus.ACTIVE, ServiceStatus.TEMPORARILY_CLOSED],
        )

    def stale(self, *, now=None) -> "ServiceQuerySet":
        """Services nobody has confirmed for six months."""
        now = now or timezone.now()
        return self.filter(last_confirmed_at__lt=now - STALE_AFTER)


class Service(
    WorkflowMixin, DraftStateMixin, LockableMixin, RevisionMixin, PreviewableMixin, ClusterableModel
):
    """One service an organisation offers (ORUK ``service``)."""

    oruk_id = models.UUIDField("Open Referral id", default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(max_length=200)
    description = models.TextField()
    category = models.CharField(max_length=32, choices=ServiceCategory.choices, db_index=True)
    minimum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    maximum_age = models.PositiveSmallIntegerField(null=True, blank=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="How many people the service can support at once."
    )
    vacancies = models.PositiveIntegerField(
        null=True, blank=True, help_text="Places free now. Leave empty if you do not say."
    )
    vacancies_confirmed_on = models.DateField(null=True, blank=True)
    accepts_prepayment_card = models.BooleanField("takes the prepayment card", default=False)
    accepts_marketplace_payment = models.BooleanField(
        "takes payment through this site", default=False
    )
    accepts_invoice = models.BooleanField("invoices the council or the person", default=True)
    contact_name = models.CharField(max_length=120, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    website = WebsiteField(blank=True)
    cqc_location_id = models.CharField(
        "CQC location id",
        max_length=20,
        blank=True,
        db_index=True,
        help_text="For example 1-1234567890.",
    )
    cqc_rating = models.CharField(
        "CQC rating", max_length=24, choices=CqcRating.choices, blank=True
    )
    cqc_rating_date = models.DateField("CQC rating published", null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=ServiceStatus.choices, default=ServiceStatus.ACTIVE
    )
    last_confirmed_at = models.DateTimeField(
        default=timezone.now, help_text="When the provider last confirmed these details were right."
    )
    stale_flagged_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When we asked the provider to check these details.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ServiceQuerySet.as_manager()

    panels = [
        FieldPanel("organisation"),
        FieldPanel("name"),
        FieldPanel("category"),
        FieldPanel("description"),
        FieldPanel("status"),
        InlinePanel("care_groups", heading="Who it is for", label="Group"),
        FieldRowPanel([FieldPanel("minimum_age"), FieldPanel("maximum_age")]),
        InlinePanel("cost_options", heading="Prices", label="Price"),
        MultiFieldPanel(
            [
                FieldPanel("accepts_prepayment_card"),
                FieldPanel("accepts_marketplace_payment"),
                FieldPanel("accepts_invoice"),
            ],
            heading="Ways to pay",
        ),
        MultiFieldPanel(
            [FieldPanel("capacity"), FieldPanel("vacancies"), FieldPanel("vacancies_confirmed_on")],
            heading="Capacity and vacancies",
        ),
        InlinePanel("areas", heading="Areas served", label="Postcode district"),
        InlinePanel("locations", heading="Where it runs", label="Location"),
        InlinePanel("schedules", heading="Opening times", label="Opening time"),
        InlinePanel("languages", heading="Languages", label="Language"),
        InlinePanel("accessibility", heading="Accessibility", label="Feature"),
        MultiFieldPanel(
            [
                FieldPanel("contact_name"),
                FieldPanel("contact_phone"),
                FieldPanel("contact_email"),
                FieldPanel("website"),
            ],
            heading="Contact",
        ),
        MultiFieldPanel(
            [
                FieldPanel("cqc_location_id"),
                FieldPanel("cqc_rating"),
                FieldPanel("cqc_rating_date"),
            ],
            heading="Care Quality Commission",
        ),
        FieldPanel("last_confirmed_at"),
    ]

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["live", "category"]),
            models.Index(fields=["last_confirmed_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(minimum_age__isnull=True)
                | Q(maximum_age__isnull=True)
                | Q(maximum_age__gte=models.F("minimum_age")),
                name="service_age_range_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation})" if self.organisation_id else self.name

    def get_absolute_url(self) -> str:
        """This service's section of its provider's public profile."""
        return f"{self.organisation.get_absolute_url()}#service-{self.pk}"

    def get_preview_template(self, request, mode_name):
        return "providers/preview/service.html"

    @property
    def last_checked(self):
        """The date the public sees as "Last checked"."""
        return timezone.localdate(self.last_confirmed_at) if self.last_confirmed_at else None

    @property
    def is_stale(self) -> bool:
        return bool(
            self.last_confirmed_at and self.last_confirmed_at < timezone.now() - STALE_AFTER
        )

    @property
    def has_vacancies(self) -> bool:
        return bool(self.vacancies)

    @property
    def cqc_regulated(self) -> bool:
        return bool(self.cqc_location_id)


class ServiceCareGroup(models.Model):
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="care_groups")
    care_group = models.CharField(max_length=32, choices=ServedGroup.choices, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service", "care_group"], name="care_group_once_per_service"
            )
        ]

    def __str__(self) -> str:
        return self.get_care_group_display()


class CostUnit(models.TextChoices):
    HOUR = "hour", "per hour"
    SESSION = "session", "per session"
    MEAL = "meal", "per meal"
    DAY = "day", "per day"
    WEEK = "week", "per week"
    JOURNEY = "journey", "per journey"
    ITEM = "item", "per item"


class CostOption(models.Model):
    """One price (ORUK ``cost_option``): integer pence per unit, with how it is charged."""

    oruk_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="cost_options")
    option = models.CharField(
        max_length=100,
        blank=True,
        help_text="What this price is for, for example 'Weekday visits'.",
    )
    amount_pence = models.PositiveIntegerField("price in pence", db_index=True)
    unit = models.CharField(max_length=10, choices=CostUnit.choices)
    charging_basis = models.CharField(
        max_length=200,
        blank=True,
        help_text="For example 'minimum 1 hour, charged per 15 minutes'.",
    )

    class Meta:
        ordering = ["amount_pence"]

    def __str__(self) -> str:
        return f"£{self.amount_pence / 100:.2f} {self.get_unit_display()}"


class ServiceArea(models.Model):
    """A postcode district the service covers (ORUK ``service_area``)."""

    oruk_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="areas")
    postcode_district = models.CharField(
        max_length=5, db_index=True, help_text="For example N3 or EN5."
    )

    class Meta:
        ordering = ["postcode_district"]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "postcode_district"], name="area_once_per_service"
            )
        ]

    def __str__(self) -> str:
        return self.postcode_district


class ServiceLocation(models.Model):
    """A place the service runs from (ORUK ``location`` with its ``service_at_location``)."""

    oruk_id = models.UUIDField("location id", default=uuid.uuid4, unique=True, editable=False)
    service_at_location_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="locations")
    name = models.CharField(max_length=200)
    address_1 = models.CharField("address line 1", max_length=200)
    city = models.CharField("town or city", max_length=100, default="London")
    postcode = models.CharField(max_length=10)
    postcode_district = models.CharField(max_length=5, db_index=True, editable=False)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name}, {self.postcode}"

    def save(self, *args, **kwargs):
        from .geo import (
            PostcodeError,
            coordinates_for_postcode,
            normalise_postcode,
            postcode_district,
        )

        try:
            self.postcode = normalise_postcode(self.postcode)
            self.postcode_district = postcode_district(self.postcode)
            if self.latitude is None or self.longitude is None:
                self.latitude, self.longitude = coordinates_for_postcode(self.postcode)
        except PostcodeError:
            self.postcode_district = self.postcode_district or ""
        super().save(*args, **kwargs)


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


# RFC 5545 day codes, as ORUK's schedule.byday uses them.
WEEKDAY_CODES = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


class RegularSchedule(models.Model):
    """When the service runs on one day of the week (ORUK ``schedule``)."""

    oruk_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="schedules")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices, db_index=True)
    opens_at = models.TimeField()
    closes_at = models.TimeField()

    class Meta:
        ordering = ["weekday", "opens_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_at__gt=models.F("opens_at")),
                name="schedule_closes_after_opening",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens_at:%H:%M} to {self.closes_at:%H:%M}"


class ServiceLanguage(models.Model):
    """A language the service can be given in (ORUK ``language``)."""

    oruk_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="languages")
    name = models.CharField(
        max_length=60, help_text="For example English, Polish, British Sign Language."
    )
    code = models.CharField(
        max_length=8, blank=True, db_index=True, help_text="ISO 639 code, for example 'pl'."
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AccessibilityFeature(models.TextChoices):
    WHEELCHAIR = "wheelchair", "Wheelchair accessible"
    STEP_FREE = "step_free", "Step-free access"
    ACCESSIBLE_TOILET = "accessible_toilet", "Accessible toilet"
    HEARING_LOOP = "hearing_loop", "Hearing loop"
    BSL = "bsl", "British Sign Language users welcome"
    EASY_READ = "easy_read", "Easy read information"
    LARGE_PRINT = "large_print", "Large print information"
    QUIET_SPACE = "quiet_space", "Quiet space"
    PARKING = "parking", "Disabled parking"
    CHANGING_PLACES = "changing_places", "Changing Places toilet"


class ServiceAccessibility(models.Model):
    """An accessibility feature of the service (ORUK ``accessibility``)."""

    oruk_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    service = ParentalKey(Service, on_delete=models.CASCADE, related_name="accessibility")
    feature = models.CharField(max_length=20, choices=AccessibilityFeature.choices, db_index=True)

    class Meta:
        verbose_name_plural = "service accessibility features"
        constraints = [
            models.UniqueConstraint(fields=["service", "feature"], name="feature_once_per_service")
        ]

    def __str__(self) -> str:
        return self.get_feature_display()
