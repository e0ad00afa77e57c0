from django.conf import settings
from django.db import models
from django.utils.text import slugify


class Sector(models.TextChoices):
    COUNCIL = "council", "Council"
    VOLUNTARY = "voluntary", "Voluntary or third sector"
    PRIVATE = "private", "Private"
    SOCIAL_ENTERPRISE = "social_enterprise", "Social enterprise"
    USER_LED = "user_led", "User-led organisation"
    CONSORTIUM = "consortium", "Consortium"


class Organisation(models.Model):
    """A care provider: any sector, on an equal footing."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = slugify(self.name)[:200]
        super().save(*args, **kwargs)


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
