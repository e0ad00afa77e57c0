"""Writes to the provider directory.

Every change a provider makes to what the public sees goes through
moderation: it is saved as a Wagtail revision and sent into the "Directory
moderation" workflow, and the live record is unchanged until a moderator
approves it. Facts that only say "this is still true" (confirming details,
today's vacancies) change the live record straight away.
"""

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from wagtail.models import Revision, WorkflowState

from marketplace.accounts.models import User

from .models import (
    ClaimStatus,
    Invitation,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationClaim,
    Service,
)

INVITATION_LIFETIME = timedelta(days=14)


class DirectoryError(ValidationError):
    """A change we refuse, with a message fit to show the person who asked."""


def _site_url(path: str) -> str:
    return f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}{path}"


def _email_on_commit(*, to: list[str], subject: str, template: str, context: dict) -> None:
    recipients = [address for address in to if address]
    if not recipients:
        return
    body = render_to_string(template, context)
    transaction.on_commit(
        lambda: send_mail(
            subject, body, settings.DEFAULT_FROM_EMAIL, recipients, fail_silently=False
        )
    )


# Moderation -----------------------------------------------------------------


def directory_record_submit(*, record: Organisation | Service, user: User | None) -> Revision:
    """Save ``record`` (an in-memory draft) as a revision and put it in front of moderators.

    Guarantees: a record already live keeps its live content until a moderator
    approves; a record never published is saved as a draft that the public
    cannot see; exactly one workflow is in progress for the record afterwards
    (a new one is started, one sent back for changes is resumed, one in
    progress simply moves on to this newer revision).
    """
    if record.pk and record.locked and record.locked_by_id != getattr(user, "pk", None):
        raise DirectoryError(
            "A council editor is checking this record at the moment. Try again later."
        )
    with transaction.atomic():
        if record.pk is None:
            record.live = False
            record.save()
        elif not record.live:
            # A draft that was never published: its row is the draft, nobody public sees it.
            record.save()
        revision = record.save_revision(user=user, log_action=True)
        workflow_state = record.current_workflow_state
        if workflow_state is None:
            workflow = record.get_workflow()
            if workflow is not None:
                workflow.start(record, user)
        elif workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES:
            workflow_state.resume(user=user)
    return revision


def organisation_create(*, user: User, organisation: Organisation) -> Organisation:
    """A provider adds its organisation. It waits for moderation; the creator becomes its owner."""
    with transaction.atomic():
        directory_record_submit(record=organisation, user=user)
        Membership.objects.get_or_create(
            organisation=organisation, user=user, defaults={"role": MembershipRole.OWNER}
        )
    return organisation


def service_submit(*, service: Service, user: User | None) -> Revision:
    """A provider submits a new or changed service for moderation.

    Submitting counts as confirming the details are right.
    """
    service.last_confirmed_at = timezone.now()
    service.stale_flagged_at = None
    return directory_record_submit(record=service, user=user)


def service_live_update(*, service: Service, values: dict) -> None:
    """Write ``values`` to the live row only (post_save fires, so search hears of it)."""
    live = Service.objects.get(pk=service.pk)
    for field, value in values.items():
        setattr(live, field, value)
    live.save(update_fields=[*values, "updated_at"])
    draft_carry_forward(record=live, values=values)
    for field, value in values.items():
        setattr(service, field, value)


def draft_carry_forward(*, record, values: dict) -> None:
    """Carry a live-only fact into a waiting draft, so approving the draft does not undo it."""
    if not record.has_unpublished_changes or record.latest_revision_id is None:
        return
    revision = Revision.objects.get(pk=record.latest_revision_id)
    for field, value in values.items():
        revision.content[field] = value.isoformat() if hasattr(value, "isoformat") else value
    revision.save(update_fields=["content"])


def service_confirm(*, service: Service, user: User) -> Service:
    """The provider says the service's details are still correct.

    Guarantees: the live record's "last checked" date is now, its stale flag is
    cleared, and a change waiting for moderation will not undo either.
    """
    now = timezone.now()
    values = {"last_confirmed_at": now, "stale_flagged_at": None}
    if service.vacancies is not None:
        values["vacancies_confirmed_on"] = timezone.localdate(now)
    with transaction.atomic():
        service_live_update(service=service, values=values)
    return service


def service_vacancies_update(*, service: Service, user: User, vacancies: int | None) -> Service:
    """Set today's vacancies on the live record (they change daily, so they skip moderation).

    Guarantees: the count, its date and "last checked" change together, and a
    change waiting for moderation carries the new count.
    """
    if vacancies is not None and vacancies < 0:
        raise DirectoryError("Vacancies cannot be less than 0.")
    now = timezone.now()
    values = {
        "vacancies": vacancies,
        "vacancies_confirmed_on": timezone.localdate(now) if vacancies is not None else None,
        "last_confirmed_at": now,
        "stale_flagged_at": None,
    }
    with transaction.atomic():
        service_live_update(service=service, values=values)
    return service


# Claims ---------------------------------------------------------------------


def organisation_claim_request(
    *, organisation: Organisation, user: User, job_title: str, evidence: str
) -> OrganisationClaim:
    """Ask to manage an organisation already listed. An editor decides; nothing changes until then."""
    if Membership.objects.filter(organisation=organisation, user=user).exists():
        raise DirectoryError("You already manage this organisation.")
    if OrganisationClaim.objects.filter(
        organisation=organisation, user=user, status=ClaimStatus.PENDING
    ).exists():
        raise DirectoryError(
            "You have already asked to manage this organisation. We will email you."
        )
    with transaction.atomic():
        claim = OrganisationClaim.objects.create(
            organisation=organisation, user=user, job_title=job_title, evidence=evidence
        )
    return claim


def organisation_claim_decide(
    *, claim: OrganisationClaim, decided_by: User, approve: bool, reason: str = ""
) -> OrganisationClaim:
    """An editor approves or rejects a claim.

    Guarantees: a claim is decided once; approval makes the claimant an owner;
    a rejection records its reason; the claimant is emailed after commit.
    """
    if not approve and not reason.strip():
        raise DirectoryError("Enter the reason for rejecting this claim.")
    with transaction.atomic():
        claim = OrganisationClaim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != ClaimStatus.PENDING:
            raise DirectoryError("This claim has already been decided.")
        claim.status = ClaimStatus.APPROVED if approve else ClaimStatus.REJECTED
        claim.decided_by = decided_by
        claim.decided_at = timezone.now()
        claim.decision_reason = reason.strip()[:300]
        claim.save()
        if approve:
            Membership.objects.get_or_create(
                organisation=claim.organisation,
                user=claim.user,
                defaults={"role": MembershipRole.OWNER},
            )
        _email_on_commit(
            to=[claim.user.email],
            subject=f"Your request to manage {claim.organisation.name}",
            template="providers/email/claim_decided.txt",
            context={"claim": claim, "portal_url": _site_url(reverse("providers:portal"))},
        )
    return claim


# Team -----------------------------------------------------------------------


def _require_owner(*, organisation: Organisation, user: User) -> None:
    if not Membership.objects.filter(
        organisation=organisation, user=user, role=MembershipRole.OWNER
    ).exists():
        raise PermissionDenied("Only an owner can manage the team.")


def invitation_create(
    *, organisation: Organisation, invited_by: User, email: str, role: str
) -> Invitation:
    """An owner invites someone by email. Guarantees one open invitation per address, emailed after commit."""
    _require_owner(organisation=organisation, user=invited_by)
    email = email.strip().lower()
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise DirectoryError(f"{email} is already in your team.")
    with transaction.atomic():
        Invitation.objects.filter(
            organisation=organisation,
            email__iexact=email,
            accepted_at__isnull=True,
            cancelled_at__isnull=True,
        ).update(cancelled_at=timezone.now())
        invitation = Invitation.objects.create(
            organisation=organisation,
            email=email,
            role=role,
            invited_by=invited_by,
            expires_at=timezone.now() + INVITATION_LIFETIME,
        )
        _email_on_commit(
            to=[email],
            subject=f"Join {organisation.name} on Social Care Connect",
            template="providers/email/invitation.txt",
            context={
                "invitation": invitation,
                "accept_url": _site_url(
                    reverse("providers:invitation_accept", args=[invitation.token])
                ),
            },
        )
    return invitation


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """The invited person joins the team. Guarantees the link works once, only for the address invited."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise DirectoryError("This invitation has expired or been used. Ask for a new one.")
        if invitation.email.lower() != user.email.lower():
            raise DirectoryError(
                f"This invitation was sent to {invitation.email}. Sign in with that email address."
            )
        membership, created = Membership.objects.get_or_create(
            organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
        )
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def invitation_cancel(*, invitation: Invitation, user: User) -> None:
    _require_owner(organisation=invitation.organisation, user=user)
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        cancelled_at=timezone.now()
    )


def membership_remove(*, membership: Membership, removed_by: User) -> None:
    """An owner removes someone. Guarantees an organisation always keeps at least one owner."""
    _require_owner(organisation=membership.organisation, user=removed_by)
    with transaction.atomic():
        owners = Membership.objects.select_for_update().filter(
            organisation=membership.organisation, role=MembershipRole.OWNER
        )
        if membership.role == MembershipRole.OWNER and owners.count() <= 1:
            raise DirectoryError(
                "You cannot remove the only owner. Make someone else an owner first."
            )
        membership.delete()


# Out-of-date records --------------------------------------------------------


def services_flag_stale(*, now=None) -> int:
    """Flag live services nobody has confirmed for six months, and email each provider once.

    Guarantees: a service is flagged (and its provider emailed) once until it
    is confirmed again; returns how many services were newly flagged.
    """
    now = now or timezone.now()
    with transaction.atomic():
        services = list(
            Service.objects.filter(live=True, stale_flagged_at__isnull=True)
            .stale(now=now)
            .select_related("organisation")
            .select_for_update(of=("self",))
        )
        if not services:
            return 0
        Service.objects.filter(pk__in=[service.pk for service in services]).update(
            stale_flagged_at=now
        )
        by_organisation: dict[int, list[Service]] = {}
        for service in services:
            by_organisation.setdefault(service.organisation_id, []).append(service)
        recipients: dict[int, list[str]] = {}
        for organisation_id, email in Membership.objects.filter(
            organisation_id__in=by_organisation
        ).values_list("organisation_id", "user__email"):
            recipients.setdefault(organisation_id, []).append(email)
        for organisation_id, flagged in by_organisation.items():
            organisation = flagged[0].organisation
            _email_on_commit(
                to=recipients.get(organisation_id) or [organisation.email],
                subject=f"Please check {organisation.name}'s details on Social Care Connect",
                template="providers/email/stale_services.txt",
                context={
                    "organisation": organisation,
                    "services": flagged,
                    "portal_url": _site_url(
                        reverse("providers:portal_organisation", args=[organisation.pk])
                    ),
                },
            )
    return len(services)
