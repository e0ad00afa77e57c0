"""Reads of the provider directory."""

from datetime import date

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from wagtail.models import TaskState, WorkflowState

from marketplace.accounts.models import User

from .models import (
    ClaimStatus,
    Membership,
    MembershipRole,
    Organisation,
    OrganisationClaim,
    Service,
    ServiceLocation,
)


def service_last_checked(*, service: Service) -> date | None:
    """The date shown to the public as "Last checked"."""
    return service.last_checked


def services_published() -> QuerySet[Service]:
    """Every service the public may see, with everything a listing shows fetched in a fixed number of queries."""
    return (
        Service.objects.published()
        .select_related("organisation")
        .prefetch_related(
            "cost_options",
            "care_groups",
            "areas",
            "schedules",
            "languages",
            "accessibility",
            Prefetch("locations", queryset=ServiceLocation.objects.order_by("name")),
        )
    )


def organisations_for_user(*, user: User) -> QuerySet[Organisation]:
    """The organisations this person works for (live or still waiting for approval)."""
    return Organisation.objects.filter(memberships__user=user).order_by("name")


def organisation_for_member(*, user: User, pk: int) -> Organisation:
    """An organisation this person works for, or 404: ids of others reveal nothing."""
    return get_object_or_404(Organisation, pk=pk, memberships__user=user)


def service_for_member(*, user: User, organisation: Organisation, pk: int) -> Service:
    return get_object_or_404(
        Service, pk=pk, organisation=organisation, organisation__memberships__user=user
    )


def membership_role(*, user: User, organisation: Organisation) -> str | None:
    return (
        Membership.objects.filter(user=user, organisation=organisation)
        .values_list("role", flat=True)
        .first()
    )


def is_owner(*, user: User, organisation: Organisation) -> bool:
    return membership_role(user=user, organisation=organisation) == MembershipRole.OWNER


def record_draft(*, record: Organisation | Service):
    """The newest version of a record: the draft waiting for approval if there is one, else the live one."""
    if record.has_unpublished_changes or not record.live:
        return record.get_latest_revision_as_object()
    return record


def record_moderation_status(*, record: Organisation | Service) -> dict:
    """What a provider needs to know about their record's moderation, in plain words.

    ``state`` is one of "published", "waiting", "changes_needed", "draft";
    ``reason`` is the moderator's comment when changes were asked for.
    """
    workflow_state = record.current_workflow_state
    if workflow_state is not None and workflow_state.status == WorkflowState.STATUS_NEEDS_CHANGES:
        rejected = (
            TaskState.objects.filter(
                workflow_state=workflow_state, status=TaskState.STATUS_REJECTED
            )
            .order_by("-finished_at")
            .first()
        )
        return {
            "state": "changes_needed",
            "label": "Changes needed",
            "reason": rejected.comment if rejected else "",
        }
    if workflow_state is not None:
        return {"state": "waiting", "label": "Waiting for approval", "reason": ""}
    if not record.live:
        return {"state": "draft", "label": "Draft", "reason": ""}
    if record.has_unpublished_changes:
        return {"state": "draft", "label": "Changes not submitted", "reason": ""}
    return {"state": "published", "label": "Published", "reason": ""}


def services_stale_for_editors() -> QuerySet[Service]:
    """Live services not confirmed for six months, oldest first: the editors' report."""
    return (
        Service.objects.filter(live=True)
        .stale()
        .select_related("organisation")
        .order_by("last_confirmed_at")
    )


def claims_pending() -> QuerySet[OrganisationClaim]:
    return (
        OrganisationClaim.objects.filter(status=ClaimStatus.PENDING)
        .select_related("organisation", "user")
        .order_by("created_at")
    )


def organisations_claimable(*, query: str) -> QuerySet[Organisation]:
    """Published organisations matching a name, for "find your organisation"."""
    query = query.strip()
    if len(query) < 2:
        return Organisation.objects.none()
    return Organisation.objects.published().filter(name__icontains=query).order_by("name")[:20]
