"""Provider self-service: own records only, changes go to moderation, team by invitation."""

import re
from datetime import timedelta

import pytest

from django.core import mail
from django.test import Client
from django.utils import timezone

from marketplace.accounts.roles import Role
from marketplace.providers.models import (
    ClaimStatus,
    Membership,
    Organisation,
    OrganisationClaim,
    Service,
)
from marketplace.providers.selectors import record_draft
from marketplace.providers.services import organisation_claim_decide
from tests.conftest import sign_in
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

from .factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(client_for):
    client, user = client_for(Role.PROVIDER_STAFF)
    organisation = user.provider_memberships.get().organisation
    return client, user, organisation


SERVICE_FORM = {
    "name": "Finchley Lunch Club",
    "category": "meals",
    "description": "A hot two-course lunch and company, Tuesdays and Thursdays.",
    "status": "active",
    "care_groups": ["older_people", "carers"],
    "areas": "N3, n12",
    "price_1_amount": "6.00",
    "price_1_unit": "meal",
    "price_1_option": "Two-course lunch",
    "accepts_prepayment_card": "on",
    "languages": "English, Gujarati",
    "accessibility": ["wheelchair"],
    "opens_1": "11:30",
    "closes_1": "14:00",
    "location_name": "St Mary's Hall",
    "location_address": "1 Hendon Lane",
    "location_postcode": "n3 1tr",
}


def test_anonymous_people_are_sent_to_sign_in(client):
    response = client.get("/provider/")
    assert response.status_code == 302 and "sign-in" in response["Location"]


def test_a_provider_cannot_see_or_change_another_organisation_by_guessing_ids(provider):
    client, user, organisation = provider
    other_service = ServiceFactory()
    other = other_service.organisation
    for url in [
        f"/provider/organisations/{other.pk}/",
        f"/provider/organisations/{other.pk}/edit/",
        f"/provider/organisations/{other.pk}/services/new/",
        f"/provider/organisations/{other.pk}/services/{other_service.pk}/edit/",
        f"/provider/organisations/{other.pk}/team/",
        # Their service through my organisation's address is no better.
        f"/provider/organisations/{organisation.pk}/services/{other_service.pk}/edit/",
    ]:
        assert client.get(url).status_code == 404, url
    response = client.post(
        f"/provider/organisations/{organisation.pk}/services/{other_service.pk}/vacancies/",
        {"vacancies": "9"},
    )
    assert response.status_code == 404
    other_service.refresh_from_db()
    assert other_service.vacancies is None
    assert (
        client.post(
            f"/provider/organisations/{other.pk}/services/{other_service.pk}/confirm/"
        ).status_code
        == 404
    )


def test_people_without_a_provider_role_are_refused(client_for):
    client, _ = client_for(Role.BUDGET_HOLDER)
    organisation = OrganisationFactory()
    assert client.get(f"/provider/organisations/{organisation.pk}/").status_code == 403


def test_adding_a_service_sends_it_to_moderation_and_hides_it_from_the_public(provider):
    client, user, organisation = provider
    response = client.post(f"/provider/organisations/{organisation.pk}/services/new/", SERVICE_FORM)
    assert response.status_code == 302
    service = Service.objects.get(name="Finchley Lunch Club")
    assert not service.live
    assert not Service.objects.published().filter(pk=service.pk).exists()
    assert service.cost_options.get().amount_pence == 600
    assert set(service.areas.values_list("postcode_district", flat=True)) == {"N3", "N12"}
    assert service.locations.get().postcode == "N3 1TR"
    assert service.schedules.get().weekday == 1
    assert set(service.languages.values_list("name", flat=True)) == {"English", "Gujarati"}
    page = client.get(f"/provider/organisations/{organisation.pk}/").content.decode()
    assert "Waiting for approval" in page


def test_editing_a_live_service_leaves_the_public_version_until_approval(provider):
    client, user, organisation = provider
    service = ServiceFactory(organisation=organisation, name="Home help")
    form = client.get(f"/provider/organisations/{organisation.pk}/services/{service.pk}/edit/")
    assert form.status_code == 200 and "Home help" in form.content.decode()
    data = SERVICE_FORM | {"name": "Home help", "price_1_amount": "24.50", "price_1_unit": "hour"}
    client.post(f"/provider/organisations/{organisation.pk}/services/{service.pk}/edit/", data)
    service.refresh_from_db()
    assert service.cost_options.get().amount_pence == 2200
    assert record_draft(record=service).cost_options.all()[0].amount_pence == 2450
    # The same price row keeps its id, so Open Referral ids stay stable.
    assert (
        record_draft(record=service).cost_options.all()[0].oruk_id
        == service.cost_options.get().oruk_id
    )


def test_form_errors_are_plain_english(provider):
    client, user, organisation = provider
    data = SERVICE_FORM | {"areas": "N3, M1", "price_1_amount": "six pounds", "opens_2": "10:00"}
    page = client.post(
        f"/provider/organisations/{organisation.pk}/services/new/", data
    ).content.decode()
    assert "We do not have a location for M1" in page
    assert "Enter a price in pounds, like 22.50." in page
    assert "Enter both the opening and closing time for Wednesday." in page
    assert not Service.objects.filter(name="Finchley Lunch Club").exists()


def test_vacancies_and_confirmation_change_the_live_record_at_once(provider):
    client, user, organisation = provider
    service = ServiceFactory(
        organisation=organisation, last_confirmed_at=timezone.now() - timedelta(days=300)
    )
    client.post(
        f"/provider/organisations/{organisation.pk}/services/{service.pk}/vacancies/",
        {"vacancies": "3"},
    )
    service.refresh_from_db()
    assert service.vacancies == 3
    assert service.vacancies_confirmed_on == timezone.localdate()
    assert not service.is_stale
    Service.objects.filter(pk=service.pk).update(
        last_confirmed_at=timezone.now() - timedelta(days=300), stale_flagged_at=timezone.now()
    )
    client.post(f"/provider/organisations/{organisation.pk}/services/{service.pk}/confirm/")
    service.refresh_from_db()
    assert service.last_checked == timezone.localdate()
    assert service.stale_flagged_at is None


def test_confirming_while_a_change_waits_is_not_undone_by_approval(provider):
    from django.contrib.auth.models import Group

    from wagtail.models import WorkflowState

    client, user, organisation = provider
    service = ServiceFactory(
        organisation=organisation, last_confirmed_at=timezone.now() - timedelta(days=300)
    )
    draft = record_draft(record=service)
    draft.name = "Renamed"
    from marketplace.providers.services import service_submit

    service_submit(service=draft, user=user)
    Service.objects.filter(pk=service.pk).update(
        last_confirmed_at=timezone.now() - timedelta(days=300)
    )
    client.post(
        f"/provider/organisations/{organisation.pk}/services/{service.pk}/vacancies/",
        {"vacancies": "5"},
    )
    moderator = UserFactory()
    moderator.groups.add(Group.objects.get(name="Moderators"))
    state = WorkflowState.objects.get(object_id=str(service.pk), status="in_progress")
    state.current_task_state.task.specific.on_action(state.current_task_state, moderator, "approve")
    service.refresh_from_db()
    assert service.name == "Renamed"
    assert service.vacancies == 5
    assert not service.is_stale


def test_anyone_signed_in_can_add_an_organisation_and_becomes_its_owner(client):
    user = UserFactory()
    sign_in(client, user)
    response = client.post(
        "/provider/organisations/new/",
        {
            "name": "Barnet Carers Together",
            "sector": "user_led",
            "description": "Run by carers, for carers.",
        },
    )
    organisation = Organisation.objects.get(name="Barnet Carers Together")
    assert response["Location"] == f"/provider/organisations/{organisation.pk}/"
    assert not organisation.live
    assert Membership.objects.get(user=user).role == "owner"
    assert client.get(response["Location"]).status_code == 200


def test_claiming_an_organisation_needs_an_editor_to_approve(
    client, django_capture_on_commit_callbacks
):
    organisation = OrganisationFactory(name="Hendon Day Centre")
    user = UserFactory()
    sign_in(client, user)
    found = client.get("/provider/claim/", {"q": "hendon"}).content.decode()
    assert "Hendon Day Centre" in found
    client.post(
        f"/provider/claim/{organisation.pk}/",
        {"job_title": "Manager", "evidence": "Call the centre"},
    )
    claim = OrganisationClaim.objects.get()
    assert not Membership.objects.filter(user=user).exists()
    assert client.get(f"/provider/organisations/{organisation.pk}/").status_code == 403

    editor = UserFactory()
    with django_capture_on_commit_callbacks(execute=True):
        organisation_claim_decide(claim=claim, decided_by=editor, approve=True)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    assert Membership.objects.get(user=user, organisation=organisation).role == "owner"
    assert "You can now manage Hendon Day Centre" in mail.outbox[-1].body


def test_rejecting_a_claim_needs_a_reason_which_the_claimant_is_told(
    client, django_capture_on_commit_callbacks
):
    from marketplace.providers.services import DirectoryError

    claim = OrganisationClaim.objects.create(
        organisation=OrganisationFactory(),
        user=UserFactory(),
        job_title="Volunteer",
        evidence="none",
    )
    with pytest.raises(DirectoryError, match="reason"):
        organisation_claim_decide(claim=claim, decided_by=UserFactory(), approve=False)
    with django_capture_on_commit_callbacks(execute=True):
        organisation_claim_decide(
            claim=claim, decided_by=UserFactory(), approve=False, reason="Nobody there knew you."
        )
    assert "Nobody there knew you." in mail.outbox[-1].body
    assert not Membership.objects.filter(user=claim.user).exists()


def test_owner_invites_a_team_member_who_joins_by_the_emailed_link(
    provider, django_capture_on_commit_callbacks
):
    client, owner, organisation = provider
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/provider/organisations/{organisation.pk}/team/",
            {"email": "New.Person@Example.org", "role": "editor"},
        )
    assert response.status_code == 302
    link = re.search(r"https?://\S+/provider/invitations/\S+/", mail.outbox[-1].body).group(0)
    path = link[link.index("/provider/") :]

    stranger = Client()
    sign_in(stranger, UserFactory(email="someone.else@example.org"))
    page = stranger.post(path).content.decode()
    assert "Sign in with that email address" in page
    assert not Membership.objects.filter(user__email="someone.else@example.org").exists()

    invited = Client()
    new_person = UserFactory(email="new.person@example.org")
    sign_in(invited, new_person)
    assert invited.post(path).status_code == 302
    assert Membership.objects.get(user=new_person, organisation=organisation).role == "editor"
    assert "expired or been used" in invited.get(path).content.decode()


def test_only_owners_manage_the_team(client_for):
    organisation = OrganisationFactory()
    MembershipFactory(organisation=organisation, role="owner")
    editor_membership = MembershipFactory(organisation=organisation, role="editor")
    client = sign_in(Client(), editor_membership.user)
    assert (
        client.post(
            f"/provider/organisations/{organisation.pk}/team/",
            {"email": "x@example.org", "role": "owner"},
        ).status_code
        == 403
    )
    assert not mail.outbox


def test_the_only_owner_cannot_be_removed(provider):
    client, owner, organisation = provider
    membership = owner.provider_memberships.get()
    client.post(f"/provider/organisations/{organisation.pk}/team/{membership.pk}/remove/")
    assert Membership.objects.filter(pk=membership.pk).exists()


def test_every_portal_page_opens_for_the_owner(provider):
    client, owner, organisation = provider
    service = ServiceFactory(organisation=organisation, name="Morning visits")
    pages = {
        "/provider/": "Your organisations",
        "/provider/organisations/new/": "Add your organisation",
        "/provider/claim/": "Find your organisation",
        f"/provider/organisations/{organisation.pk}/": "Morning visits",
        f"/provider/organisations/{organisation.pk}/edit/": f"Change {organisation.name}",
        f"/provider/organisations/{organisation.pk}/services/new/": "Add a service",
        f"/provider/organisations/{organisation.pk}/services/{service.pk}/vacancies/": "Places free now",
        f"/provider/organisations/{organisation.pk}/team/": "Invite someone",
    }
    for url, text in pages.items():
        response = client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
