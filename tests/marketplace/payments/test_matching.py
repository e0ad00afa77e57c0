"""Card transactions matched to directory providers, with a confirm/correct screen for officers."""

from datetime import date

import pytest

from commissioning.demand.services import demand_rollups_differences
from marketplace.accounts.roles import Role
from marketplace.payments.matching import merchant_key, merchant_match, name_similarity
from marketplace.payments.models import Channel, MatchStatus, MerchantAlias, Purchase
from marketplace.payments.services import merchant_match_confirm, purchase_record
from marketplace.providers.taxonomy import ServiceCategory
from tests.factories import BudgetHolderFactory, OrganisationFactory
from tests.marketplace.providers.factories import ServiceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def directory():
    bright = OrganisationFactory(name="Bright Care Home Care Ltd")
    ServiceFactory(organisation=bright, category=ServiceCategory.HOME_CARE)  # located at N3 1XP
    lunch = OrganisationFactory(name="Finchley Lunch Club")
    ServiceFactory(organisation=lunch, category=ServiceCategory.MEALS)
    OrganisationFactory(name="Barnet Carers Centre")
    return {"bright": bright, "lunch": lunch}


def card(holder, reference, name, *, mcc="", postcode="", merchant_id="", amount=2_500):
    purchase, _ = purchase_record(
        budget_holder=holder,
        amount_pence=amount,
        occurred_on=date(2026, 3, 2),
        channel=Channel.CARD_STATEMENT,
        source_reference=reference,
        merchant_name=name,
        merchant_category_code=mcc,
        merchant_postcode=postcode,
        stripe_merchant_id=merchant_id,
    )
    return purchase


def test_merchant_names_are_normalised_without_acquirer_noise():
    assert merchant_key("SQ *Bright-Care Home Care Ltd 0042") == "bright care home care"
    assert merchant_key("The Finchley Lunch Club & Co") == "finchley lunch club"
    assert name_similarity("bright care homeca", "bright care home care") >= 80


def test_a_card_purchase_is_matched_to_the_provider_by_name_and_postcode(directory):
    holder = BudgetHolderFactory()
    purchase = card(holder, "s1", "SQ *BRIGHT CARE HOME CA", mcc="8099", postcode="N31XP")

    assert purchase.organisation == directory["bright"]
    assert purchase.match_status == MatchStatus.MATCHED
    assert purchase.match_confidence >= 90
    assert purchase.category == ServiceCategory.HOME_CARE
    assert purchase.sector == directory["bright"].sector


def test_the_postcode_raises_confidence(directory):
    near = merchant_match(merchant_name="Bright Care", merchant_postcode="N3 1XP")
    far = merchant_match(merchant_name="Bright Care", merchant_postcode="EN5 1AA")
    assert near.confidence > far.confidence


def test_unmatched_spend_falls_back_to_a_category_by_merchant_code(directory):
    holder = BudgetHolderFactory()
    taxi = card(holder, "s2", "ADDISON LEE", mcc="4121")
    mystery = card(holder, "s3", "XYZ HOLDINGS")

    assert taxi.organisation is None and taxi.match_status == MatchStatus.CATEGORY_ONLY
    assert taxi.category == ServiceCategory.TRANSPORT
    assert (
        mystery.match_status == MatchStatus.UNMATCHED and mystery.category == ServiceCategory.OTHER
    )


def test_an_officers_correction_updates_every_purchase_and_teaches_the_alias_table(
    directory, client_for
):
    holder, other_holder = BudgetHolderFactory(), BudgetHolderFactory()
    first = card(holder, "s4", "FLC CAFE N12", mcc="5812", merchant_id="mer_flc")
    second = card(other_holder, "s5", "FLC CAFE N12", mcc="5812")
    assert first.organisation is None and second.organisation is None

    officer_client, officer = client_for(Role.MONITORING_OFFICER)
    screen = officer_client.get("/monitoring/matching/").content.decode()
    assert "FLC CAFE N12" in screen and "2 by 2 people" in screen

    response = officer_client.post(
        "/monitoring/matching/",
        {"merchant_key": "flc cafe n12", "organisation": directory["lunch"].pk},
    )
    assert response.status_code == 302

    for purchase in (first, second):
        purchase.refresh_from_db()
        assert purchase.organisation == directory["lunch"]
        assert purchase.match_status == MatchStatus.CONFIRMED and purchase.match_confidence == 100
        assert purchase.category == ServiceCategory.MEALS
    assert MerchantAlias.objects.filter(
        stripe_merchant_id="mer_flc", organisation=directory["lunch"]
    ).exists()
    assert demand_rollups_differences() == []
    assert "FLC CAFE N12" not in officer_client.get("/monitoring/matching/").content.decode()

    # Learned: the next purchase matches on arrival, by merchant id or by name.
    by_id = card(holder, "s6", "FLC LTD", merchant_id="mer_flc")
    by_name = card(holder, "s7", "FLC Cafe N12")
    assert by_id.organisation == directory["lunch"] and by_id.match_confidence == 100
    assert by_name.organisation == directory["lunch"] and by_name.match_confidence >= 95


def test_marking_a_merchant_as_not_a_provider_removes_it_from_the_queue(directory):
    holder = BudgetHolderFactory()
    card(holder, "s8", "TESCO STORES 2231", mcc="5411")
    merchant_match_confirm(merchant_key_value="tesco stores", organisation=None, officer=None)
    purchase = Purchase.objects.get(source_reference="s8")
    assert purchase.organisation is None and purchase.match_confidence == 100
    assert purchase.match_status == MatchStatus.CATEGORY_ONLY


def test_only_monitoring_officers_use_the_matching_screen(client_for):
    for role in (Role.COMMISSIONER, Role.PROVIDER_STAFF, Role.BUDGET_HOLDER):
        role_client, _ = client_for(role)
        assert role_client.get("/monitoring/matching/").status_code == 403
