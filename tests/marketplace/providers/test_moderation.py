"""Editorial moderation: provider changes wait for a moderator; the public sees only the live version."""

import pytest

from django.contrib.auth.models import Group, Permission

from wagtail.models import WorkflowState

from marketplace.accounts.roles import Role
from marketplace.providers.models import CostOption, Organisation, Service
from marketplace.providers.selectors import record_draft, record_moderation_status
from marketplace.providers.services import DirectoryError, organisation_create, service_submit
from tests.factories import MembershipFactory, UserFactory

from .factories import ServiceFactory

pytestmark = pytest.mark.django_db


def moderator():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name="Moderators"))
    return user


def act(record, user, action, comment=""):
    state = WorkflowState.objects.get(
        object_id=str(record.pk),
        base_content_type__model=record._meta.model_name,
        status=WorkflowState.STATUS_IN_PROGRESS,
    )
    task_state = state.current_task_state
    task_state.task.specific.on_action(task_state, user, action, comment=comment)
    return task_state


def test_directory_moderation_workflow_and_groups_exist():
    organisation_workflow = Organisation().get_workflow()
    assert organisation_workflow.name == "Directory moderation"
    assert Service().get_workflow() == organisation_workflow
    task = organisation_workflow.tasks.get().specific
    assert list(task.groups.values_list("name", flat=True)) == ["Moderators"]
    editors = Group.objects.get(name="Directory editors")
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert {"change_service", "change_organisation", "access_admin"} <= codenames
    assert "publish_service" not in codenames
    moderators = set(
        Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True)
    )
    assert {"publish_service", "publish_organisation"} <= moderators


def test_a_submitted_price_change_is_not_public_until_approved():
    service = ServiceFactory(name="Home care")
    provider = MembershipFactory(organisation=service.organisation).user
    draft = record_draft(record=service)
    draft.name = "Home care plus"
    price = draft.cost_options.all()[0]
    price.amount_pence = 2500
    draft.cost_options = [price]
    service_submit(service=draft, user=provider)

    live = Service.objects.get(pk=service.pk)
    assert live.name == "Home care"
    assert list(CostOption.objects.filter(service=live).values_list("amount_pence", flat=True)) == [
        2200
    ]
    assert Service.objects.published().filter(name="Home care").exists()
    assert record_moderation_status(record=live)["state"] == "waiting"
    assert record_draft(record=live).name == "Home care plus"

    act(live, moderator(), "approve")
    live.refresh_from_db()
    assert live.name == "Home care plus"
    assert list(CostOption.objects.filter(service=live).values_list("amount_pence", flat=True)) == [
        2500
    ]
    assert record_moderation_status(record=live)["state"] == "published"


def test_rejection_records_the_reason_and_the_provider_sees_it():
    service = ServiceFactory(name="Day centre")
    provider = MembershipFactory(organisation=service.organisation).user
    draft = record_draft(record=service)
    draft.description = "Best day centre in London!!!"
    service_submit(service=draft, user=provider)
    task_state = act(
        service, moderator(), "reject", comment="Please describe what happens during the day."
    )

    task_state.refresh_from_db()
    assert task_state.status == "rejected"
    status = record_moderation_status(record=Service.objects.get(pk=service.pk))
    assert status["state"] == "changes_needed"
    assert status["reason"] == "Please describe what happens during the day."
    assert Service.objects.get(pk=service.pk).description != "Best day centre in London!!!"

    # Resubmitting puts the same workflow back in front of moderators.
    draft = record_draft(record=Service.objects.get(pk=service.pk))
    draft.description = "Activities, lunch and company, 10am to 4pm."
    service_submit(service=draft, user=provider)
    assert record_moderation_status(record=Service.objects.get(pk=service.pk))["state"] == "waiting"


def test_a_new_organisation_is_invisible_until_approved_and_its_creator_owns_it():
    user = UserFactory()
    organisation = organisation_create(
        user=user, organisation=Organisation(name="Mill Hill Befrienders", sector="voluntary")
    )
    assert not Organisation.objects.published().filter(pk=organisation.pk).exists()
    assert user.provider_memberships.get().role == "owner"
    act(organisation, moderator(), "approve")
    assert Organisation.objects.published().filter(pk=organisation.pk).exists()


def test_scheduled_expiry_hides_a_service():
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    service = ServiceFactory()
    assert Service.objects.published().filter(pk=service.pk).exists()
    Service.objects.filter(pk=service.pk).update(expire_at=timezone.now() - timedelta(minutes=1))
    call_command("publish_scheduled")
    assert not Service.objects.published().filter(pk=service.pk).exists()


def test_locked_record_refuses_provider_changes():
    service = ServiceFactory()
    editor = moderator()
    Service.objects.filter(pk=service.pk).update(locked=True, locked_by=editor)
    service.refresh_from_db()
    with pytest.raises(DirectoryError, match="checking this record"):
        service_submit(service=record_draft(record=service), user=MembershipFactory().user)


def test_directory_admin_pages_open_for_moderators(client_for):
    client, user = client_for(Role.CMS_EDITOR)
    user.groups.add(Group.objects.get(name="Moderators"))
    service = ServiceFactory(name="Listed in admin")
    listing = client.get("/admin/snippets/providers/service/")
    assert listing.status_code == 200
    assert "Listed in admin" in listing.content.decode()
    assert client.get(f"/admin/snippets/providers/service/edit/{service.pk}/").status_code == 200
    assert client.get("/admin/directory_stale/").status_code == 200
    assert client.get("/admin/directory_claims/").status_code == 200


def test_directory_reports_are_closed_to_people_without_directory_rights(client_for):
    client, user = client_for(Role.CMS_EDITOR)
    user.groups.clear()
    user.user_permissions.add(*Permission.objects.filter(codename="access_admin"))
    assert client.get("/admin/directory_stale/").status_code in (302, 403)


def test_preview_shows_the_waiting_change_as_the_public_would_see_it(rf):
    service = ServiceFactory(name="Live name")
    draft = record_draft(record=service)
    draft.name = "Draft name"
    service_submit(service=draft, user=MembershipFactory(organisation=service.organisation).user)
    request = rf.get("/admin/")
    request.user = moderator()
    request.csp_nonce = "preview"
    response = record_draft(record=Service.objects.get(pk=service.pk)).serve_preview(request, "")
    page = response.render().content.decode()
    assert "Draft name" in page and "£22.00 per hour" in page
    assert "This is how the service will look once approved." in page


def test_scheduled_publishing_task_is_on_the_beat_schedule(settings):
    from marketplace.providers.tasks import publish_scheduled

    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"providers.publish_scheduled", "providers.flag_stale_records"} <= tasks
    service = ServiceFactory()
    from datetime import timedelta

    from django.utils import timezone

    Service.objects.filter(pk=service.pk).update(expire_at=timezone.now() - timedelta(minutes=1))
    publish_scheduled.delay()
    assert not Service.objects.published().filter(pk=service.pk).exists()


def test_a_directory_editor_submits_a_change_in_the_admin_and_a_moderator_approves_it(client_for):
    from wagtail.test.utils.form_data import inline_formset, nested_form_data

    client, editor = client_for(Role.CMS_EDITOR)
    editor.groups.set([Group.objects.get(name="Directory editors")])
    service = ServiceFactory(name="Hendon Day Centre", children=False)
    data = nested_form_data(
        {
            "organisation": service.organisation_id,
            "name": "Hendon Day Centre and Garden",
            "category": "day_opportunities",
            "description": "Gardening, art and lunch.",
            "status": "active",
            "accepts_invoice": "on",
            "last_confirmed_at": "2026-01-01 10:00",
            "care_groups": inline_formset([{"care_group": "older_people"}]),
            "cost_options": inline_formset(
                [{"amount_pence": "5500", "unit": "session", "option": "", "charging_basis": ""}]
            ),
            "areas": inline_formset([{"postcode_district": "NW4"}]),
            "locations": inline_formset([]),
            "schedules": inline_formset([]),
            "languages": inline_formset([]),
            "accessibility": inline_formset([]),
        }
    )
    data["action-submit"] = "Submit to Directory moderation"
    response = client.post(f"/admin/snippets/providers/service/edit/{service.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    service.refresh_from_db()
    assert service.name == "Hendon Day Centre"
    assert record_moderation_status(record=service)["state"] == "waiting"

    act(service, moderator(), "approve")
    service.refresh_from_db()
    assert service.name == "Hendon Day Centre and Garden"
    assert service.cost_options.get().amount_pence == 5500
