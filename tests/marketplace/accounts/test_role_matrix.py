"""Each role reaches what it should and nothing else, including by guessing ids."""

import pytest

from django.urls import reverse
from django.utils.html import escape

from marketplace.accounts.roles import Role
from tests.factories import BudgetHolderFactory, DelegationFactory

ALL_ROLES = list(Role)
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ALL_ROLES)
def test_every_role_reaches_its_account_page(client_for, role):
    client, _ = client_for(role)
    assert client.get(reverse("accounts:home")).status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("accounts:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# Who may open a budget holder's personal record. "self" is the holder's own
# account; "own proxy" a proxy with a current delegation from that holder.
PERSON_RECORD_ACCESS = {
    Role.BUDGET_HOLDER: False,  # someone else's record
    Role.PROXY: False,  # a proxy for someone else
    Role.PROVIDER_STAFF: False,
    Role.COMMISSIONER: False,  # commissioners see aggregates only
    Role.GRANT_OFFICER: False,
    Role.MONITORING_OFFICER: True,
    Role.CMS_EDITOR: False,
    Role.ADMINISTRATOR: False,
}


@pytest.mark.parametrize(("role", "allowed"), PERSON_RECORD_ACCESS.items())
def test_personal_records_are_visible_only_to_those_who_need_them(client_for, role, allowed):
    someone_else = BudgetHolderFactory()
    client, _ = client_for(role)
    for name in ("accounts:person-detail", "accounts:person-activity"):
        response = client.get(reverse(name, args=[someone_else.pk]))
        assert response.status_code == (200 if allowed else 404), (role, name)


def test_holder_and_their_proxy_see_the_holders_record(client_for):
    client, user = client_for(Role.BUDGET_HOLDER)
    holder = user.budget_holder
    assert client.get(reverse("accounts:person-detail", args=[holder.pk])).status_code == 200

    proxy_client, proxy = client_for(Role.PROXY)
    DelegationFactory(budget_holder=holder, proxy=proxy)
    response = proxy_client.get(reverse("accounts:person-detail", args=[holder.pk]))
    assert response.status_code == 200
    assert escape(holder.full_name) in response.content.decode()  # O'Sullivan is escaped


def test_guessing_ids_reveals_nothing(client_for):
    client, user = client_for(Role.BUDGET_HOLDER)
    own = user.budget_holder.pk
    others = [BudgetHolderFactory().pk for _ in range(3)]
    missing = max(others) + 1000
    statuses = {
        pk: client.get(reverse("accounts:person-detail", args=[pk])).status_code
        for pk in [*others, missing]
    }
    assert client.get(reverse("accounts:person-detail", args=[own])).status_code == 200
    # Another person's record looks exactly like one that does not exist.
    assert set(statuses.values()) == {404}


def test_ended_delegation_loses_access(client_for):
    client, proxy = client_for(Role.PROXY)
    delegation = proxy.delegations.get()
    url = reverse("accounts:person-detail", args=[delegation.budget_holder.pk])
    assert client.get(url).status_code == 200
    delegation.ends_on = delegation.starts_on
    delegation.save()
    assert client.get(url).status_code == 404


# Editors edit content and the directory; commissioners edit fair cost rates, block
# contracts and the Market Position Statement; grant officers the fund and framework.
CMS_ADMIN_ROLES = (Role.CMS_EDITOR, Role.ADMINISTRATOR, Role.COMMISSIONER, Role.GRANT_OFFICER)
CMS_ADMIN_ACCESS = {role: role in CMS_ADMIN_ROLES for role in Role}


@pytest.mark.parametrize(("role", "allowed"), CMS_ADMIN_ACCESS.items())
def test_only_council_staff_with_content_to_edit_open_the_cms(client_for, role, allowed):
    client, _ = client_for(role)
    response = client.get("/admin/")
    if allowed:
        assert response.status_code == 200
    else:
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert (
                "/admin/" not in response["Location"].split("?")[0]
                or "login" in response["Location"]
            )


@pytest.mark.parametrize("role", ALL_ROLES)
def test_only_administrators_open_the_django_admin(client_for, role):
    client, _ = client_for(role)
    response = client.get("/django-admin/")
    if role == Role.ADMINISTRATOR:
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert "login" in response["Location"]


@pytest.mark.parametrize(
    ("role", "can_manage"),
    [(Role.BUDGET_HOLDER, True), (Role.MONITORING_OFFICER, True), (Role.PROXY, False)],
)
def test_who_may_add_a_proxy(client_for, role, can_manage):
    client, user = client_for(role)
    if role == Role.BUDGET_HOLDER:
        holder = user.budget_holder
    elif role == Role.PROXY:
        holder = user.delegations.get().budget_holder
    else:
        holder = BudgetHolderFactory()
    response = client.get(reverse("accounts:delegation-add", args=[holder.pk]))
    assert response.status_code == (200 if can_manage else 403)


def test_administrators_read_the_audit_trail_but_cannot_alter_it(client_for):
    holder_client, holder_user = client_for(Role.BUDGET_HOLDER)
    holder_client.get(reverse("accounts:person-detail", args=[holder_user.budget_holder.pk]))
    admin_client, _ = client_for(Role.ADMINISTRATOR)
    listing = admin_client.get("/django-admin/accounts/auditevent/")
    assert listing.status_code == 200
    assert f"budget holder {holder_user.budget_holder.pk}" in listing.content.decode()
    assert admin_client.get("/django-admin/accounts/auditevent/add/").status_code == 403
