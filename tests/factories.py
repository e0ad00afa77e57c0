"""factory_boy factories for the records every area of the platform builds on."""

from datetime import date

import factory
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.contrib.auth.models import Group

from marketplace.accounts.models import BudgetHolder, CareGroup, Delegation, Relationship, User
from marketplace.accounts.roles import ROLE_GROUPS, Role
from marketplace.providers.models import Membership, MembershipRole, Organisation, Sector

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    first_name = factory.Faker("first_name", locale="en_GB")
    last_name = factory.Faker("last_name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class BudgetHolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = BudgetHolder

    full_name = factory.Faker("name", locale="en_GB")
    date_of_birth = date(1950, 6, 1)
    care_group = CareGroup.OLDER_PEOPLE
    postcode = "N3 2SB"
    council_reference = factory.Sequence(lambda n: f"TEST-{n:06d}")


class DelegationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Delegation

    budget_holder = factory.SubFactory(BudgetHolderFactory)
    proxy = factory.SubFactory(UserFactory)
    relationship = Relationship.RELATIVE
    may_pay = True
    may_review = True
    starts_on = date(2020, 1, 1)


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Provider {n}")
    slug = factory.Sequence(lambda n: f"provider-{n}")
    sector = Sector.VOLUNTARY


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    role = MembershipRole.OWNER


def user_with_role(role: Role, **fields) -> User:
    """A user holding exactly ``role`` (plus the records that role implies)."""
    user = UserFactory(**fields)
    if role == Role.ADMINISTRATOR:
        user.is_superuser = user.is_staff = True
        user.save()
    elif role in ROLE_GROUPS:
        user.groups.add(Group.objects.get_or_create(name=ROLE_GROUPS[role][0])[0])
        if role == Role.CMS_EDITOR:
            user.is_staff = True
            user.save()
    elif role == Role.BUDGET_HOLDER:
        BudgetHolderFactory(user=user)
    elif role == Role.PROXY:
        DelegationFactory(proxy=user)
    elif role == Role.PROVIDER_STAFF:
        MembershipFactory(user=user)
    if role in (
        Role.COMMISSIONER,
        Role.GRANT_OFFICER,
        Role.MONITORING_OFFICER,
        Role.CMS_EDITOR,
        Role.ADMINISTRATOR,
    ):
        TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)
    return user
