import hashlib
import random
from datetime import date

import pytest

from django.core.management import CommandError, call_command
from django.db import transaction

from cms.demo import DemoContext
from marketplace.accounts import demo as accounts_demo
from marketplace.accounts.models import BudgetHolder, CareGroup, Delegation, User
from marketplace.accounts.roles import Role

pytestmark = pytest.mark.django_db


def _accounts_fingerprint(seed: int) -> str:
    """Run the accounts seeder inside a rolled-back transaction and fingerprint what it made."""

    class Rollback(Exception):
        pass

    digest = ""
    try:
        with transaction.atomic():
            ctx = DemoContext(
                scale=1, today=date(2026, 11, 23), rng=random.Random(seed), password="x"
            )
            accounts_demo.seed(ctx)
            rows = BudgetHolder.objects.order_by("council_reference").values_list(
                "council_reference", "full_name", "care_group", "postcode", "date_of_birth"
            )
            digest = hashlib.sha256(repr(list(rows)).encode()).hexdigest()
            raise Rollback
    except Rollback:
        pass
    return digest


def test_demo_people_are_the_same_every_time_for_the_same_seed():
    first, second, other = (
        _accounts_fingerprint(2010),
        _accounts_fingerprint(2010),
        _accounts_fingerprint(7),
    )
    assert first == second
    assert first != other


def test_seed_demo_loads_one_borough_with_every_role(capsys):
    call_command("seed_demo")
    output = capsys.readouterr().out
    assert "Demo data loaded." in output
    assert "proxy@demo.scc.test" in output and "demo-password-2026" in output

    assert BudgetHolder.objects.count() >= 400
    assert set(BudgetHolder.objects.values_list("care_group", flat=True)) == set(CareGroup.values)
    assert Delegation.objects.current().count() >= 100
    held = set()
    for user in User.objects.filter(email__endswith="@demo.scc.test").exclude(
        email__startswith="person"
    ):
        held |= user.roles
    assert held >= set(Role), set(Role) - held

    priya = User.objects.get(email="proxy@demo.scc.test")
    assert Role.PROXY in priya.roles
    assert priya.delegations.get().budget_holder.full_name == "Kamala Shah"

    with pytest.raises(CommandError, match="already loaded"):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")
    assert "already loaded" in capsys.readouterr().out
