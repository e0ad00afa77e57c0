"""Council staff's budget screens: set up and change budgets and plans, issue, freeze and
cancel cards (against stripe-mock), add and end proxies; who may open them; what is audited."""

from datetime import date, timedelta

import pytest

from django.utils import timezone

from marketplace.accounts.models import AuditAction, AuditEvent, Delegation
from marketplace.accounts.roles import Role
from marketplace.budgets.models import (
    BudgetLoad,
    BudgetStatus,
    Card,
    CardScheme,
    CardStatus,
    DeclineReason,
    LoadStatus,
    PersonalBudget,
)
from marketplace.budgets.selectors import budget_balance_pence
from marketplace.budgets.services import (
    budget_loads_post_due,
    budget_update,
    card_authorization_decide,
)
from marketplace.payments import stripe_api
from tests.factories import BudgetHolderFactory, UserFactory

from .factories import make_budget

pytestmark = pytest.mark.django_db


@pytest.fixture
def no_stripe(settings):
    settings.STRIPE_SECRET_KEY = ""
    stripe_api.client.cache_clear()
    yield settings
    stripe_api.client.cache_clear()


@pytest.fixture
def officer(client_for):
    return client_for(Role.MONITORING_OFFICER)


@pytest.fixture
def open_budget(db):
    """A budget that started 30 days ago: two 4-weekly loads paid in."""
    today = timezone.localdate()
    budget = make_budget(
        BudgetHolderFactory(user=UserFactory()),
        starts_on=today - timedelta(days=30),
        ends_on=today + timedelta(days=334),
    )
    budget_loads_post_due(on=today)
    return budget


def _date(prefix: str, day: date) -> dict:
    return {f"{prefix}_day": day.day, f"{prefix}_month": day.month, f"{prefix}_year": day.year}


def _budget_post(**overrides) -> dict:
    data = {
        "annual_amount_pence": "£18,200",
        "load_schedule": "weekly",
        **_date("starts_on", date(2027, 4, 1)),
        **_date("ends_on", date(2028, 3, 31)),
        "care_group": "older_people",
        "deployment": "direct_payment",
        "outcomes": "Stay living at home\n\nSee friends every week\n",
        "allowed_categories": ["home_care", "day_opportunities"],
        "cash_allowed": "on",
        "cash_limit_pence": "100",
        "approval_required_above_pence": "",
    }
    data.update(overrides)
    return data


def _audited(obj, action) -> bool:
    return AuditEvent.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk), action=action
    ).exists()


# --- Who may open the screens ---------------------------------------------------------


def _staff_paths(budget, card):
    person = budget.budget_holder_id
    return [
        "/budgets/manage/",
        "/budgets/manage/?q=a",
        f"/budgets/manage/people/{person}/",
        f"/budgets/manage/people/{person}/new/",
        f"/budgets/manage/{budget.pk}/edit/",
        f"/budgets/manage/{budget.pk}/plan/",
        f"/budgets/manage/{budget.pk}/cards/new/",
        f"/budgets/manage/cards/{card.pk}/freeze/",
        f"/budgets/manage/cards/{card.pk}/cancel/",
    ]


@pytest.mark.parametrize("role", [r for r in Role if r != Role.MONITORING_OFFICER])
def test_only_monitoring_officers_open_the_staff_budget_screens(client_for, role):
    client, user = client_for(role)
    # The budget holder and their proxy are refused too, even for their own budget.
    if role == Role.BUDGET_HOLDER:
        holder = user.budget_holder
    elif role == Role.PROXY:
        holder = user.delegations.get().budget_holder
    else:
        holder = BudgetHolderFactory()
    budget = make_budget(holder)
    card = Card.objects.create(budget=budget, reference="ic_x", last4="1111")
    wrong = {}
    for path in _staff_paths(budget, card):
        for method in ("get", "post"):
            status = getattr(client, method)(path).status_code
            if status != 403:
                wrong[f"{method} {path}"] = status
    assert not wrong
    assert Card.objects.get(pk=card.pk).status == CardStatus.ACTIVE
    assert PersonalBudget.objects.count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client, open_budget):
    card = Card.objects.create(budget=open_budget, reference="ic_x", last4="1111")
    for path in _staff_paths(open_budget, card):
        response = client.post(path)
        assert response.status_code == 302 and response["Location"].startswith(
            "/account/sign-in/"
        ), path


def test_unknown_records_are_not_found(officer):
    client, _ = officer
    for path in [
        "/budgets/manage/people/999999/",
        "/budgets/manage/people/999999/new/",
        "/budgets/manage/999999/edit/",
        "/budgets/manage/999999/plan/",
        "/budgets/manage/999999/cards/new/",
        "/budgets/manage/cards/999999/freeze/",
    ]:
        assert client.get(path).status_code == 404, path


def test_officer_finds_a_person_by_name_or_reference(officer, open_budget):
    client, _ = officer
    holder = open_budget.budget_holder
    by_name = client.get("/budgets/manage/", {"q": holder.full_name.split()[0]}).content.decode()
    by_reference = client.get("/budgets/manage/", {"q": holder.council_reference}).content.decode()
    for page in (by_name, by_reference):
        assert f"/budgets/manage/people/{holder.pk}/" in page
    assert "Nobody matches" in client.get("/budgets/manage/", {"q": "zzzz"}).content.decode()


# --- Setting up and changing a budget ---------------------------------------------------


def test_officer_sets_up_a_budget_and_plan_and_it_is_audited(officer):
    client, user = officer
    holder = BudgetHolderFactory(care_group="learning_disability")
    response = client.post(f"/budgets/manage/people/{holder.pk}/new/", _budget_post())
    assert response.status_code == 302
    budget = PersonalBudget.objects.get(budget_holder=holder)
    assert budget.annual_amount_pence == 1_820_000
    assert budget.load_schedule == "weekly" and budget.care_group == "older_people"
    assert (budget.starts_on, budget.ends_on) == (date(2027, 4, 1), date(2028, 3, 31))
    plan = budget.support_plan
    assert plan.outcomes == ["Stay living at home", "See friends every week"]
    assert plan.allowed_categories == ["home_care", "day_opportunities"]
    assert plan.cash_allowed and plan.cash_limit_pence == 10_000
    # 52 weekly loads of £350, and a pro-rata 366th day: the year is paid in full.
    loads = list(budget.loads.all())
    assert loads[0].amount_pence == 35_000 and len(loads) == 53
    assert sum(load.amount_pence for load in loads) == 1_820_000 * 366 // 364
    event = AuditEvent.objects.get(object_id=str(budget.pk), action=AuditAction.CREATED)
    assert event.actor == user and event.budget_holder == holder
    page = client.get(response["Location"]).content.decode()
    assert "Budget set up" in page and "£18,200.00" in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"annual_amount_pence": ""}, "Enter the annual amount."),
        ({"annual_amount_pence": "lots"}, "Enter the annual amount in pounds"),
        ({"annual_amount_pence": "0"}, "The annual amount must be more than £0."),
        ({"load_schedule": ""}, "Select how often money is paid in."),
        ({**_date("ends_on", date(2027, 3, 1))}, "The end date must be after the start date."),
        ({"ends_on_day": "31", "ends_on_month": "2"}, "Enter a real date"),
        ({"cash_limit_pence": ""}, "Enter the most cash that may be taken out in 4 weeks."),
        ({"cash_allowed": ""}, "Tick “The plan allows cash” to set a cash limit"),
        ({"deployment": "cash_in_hand"}, "Select how the budget is taken."),
        ({"allowed_categories": ["casinos"]}, "Select kinds of support from the list."),
    ],
)
def test_set_up_form_explains_each_mistake_in_an_error_summary(officer, overrides, message):
    client, _ = officer
    holder = BudgetHolderFactory()
    response = client.post(f"/budgets/manage/people/{holder.pk}/new/", _budget_post(**overrides))
    page = response.content.decode()
    assert response.status_code == 200
    assert "govuk-error-summary" in page and message in page.replace("&#x27;", "'")
    assert not PersonalBudget.objects.filter(budget_holder=holder).exists()


def test_a_second_budget_cannot_overlap_the_first(officer, open_budget):
    client, _ = officer
    holder = open_budget.budget_holder
    today = timezone.localdate()
    response = client.post(
        f"/budgets/manage/people/{holder.pk}/new/",
        _budget_post(**_date("starts_on", today), **_date("ends_on", today + timedelta(days=300))),
    )
    assert "already has a budget from" in response.content.decode()
    # The next year's budget, after this one ends, is fine.
    following = open_budget.ends_on + timedelta(days=1)
    response = client.post(
        f"/budgets/manage/people/{holder.pk}/new/",
        _budget_post(
            **_date("starts_on", following), **_date("ends_on", following + timedelta(days=364))
        ),
    )
    assert response.status_code == 302
    assert PersonalBudget.objects.filter(budget_holder=holder).count() == 2


def _edit_post(budget, **overrides) -> dict:
    data = {
        "annual_amount_pence": str(budget.annual_amount_pence / 100),
        "load_schedule": budget.load_schedule,
        **_date("starts_on", budget.starts_on),
        **_date("ends_on", budget.ends_on),
        "care_group": budget.care_group,
        "deployment": budget.deployment,
        "status": budget.status,
    }
    data.update(overrides)
    return data


def test_changing_the_amount_replans_only_the_loads_to_come(officer, open_budget):
    client, _ = officer
    paid = list(
        open_budget.loads.filter(status=LoadStatus.POSTED).values_list("pk", "amount_pence")
    )
    balance = budget_balance_pence(budget=open_budget)
    response = client.post(
        f"/budgets/manage/{open_budget.pk}/edit/",
        _edit_post(open_budget, annual_amount_pence="26000", load_schedule="weekly"),
    )
    assert response.status_code == 302
    open_budget.refresh_from_db()
    assert open_budget.annual_amount_pence == 2_600_000 and open_budget.load_schedule == "weekly"
    # Money already paid in is untouched.
    assert (
        list(open_budget.loads.filter(status=LoadStatus.POSTED).values_list("pk", "amount_pence"))
        == paid
    )
    assert budget_balance_pence(budget=open_budget) == balance
    # The rest come weekly at £500, from the end of the last 4-week period paid for.
    to_come = list(open_budget.loads.filter(status=LoadStatus.SCHEDULED))
    last_paid = max(load.due_on for load in open_budget.loads.filter(status=LoadStatus.POSTED))
    assert to_come[0].due_on == last_paid + timedelta(days=28)
    assert {load.amount_pence for load in to_come[:-1]} == {50_000}
    assert all(
        b.due_on - a.due_on == timedelta(days=7) for a, b in zip(to_come, to_come[1:], strict=False)
    )
    # Together they pay the new annual rate for the days left, to within a penny a load.
    days_left = (open_budget.ends_on - to_come[0].due_on).days + 1
    expected = 2_600_000 * days_left // 364
    assert abs(sum(load.amount_pence for load in to_come) - expected) <= len(to_come)
    assert _audited(open_budget, AuditAction.CHANGED)
    # Running the loads again pays nothing twice.
    assert budget_loads_post_due(on=timezone.localdate()) == 0


def test_dates_cannot_move_behind_money_already_paid_in(officer, open_budget):
    client, _ = officer
    response = client.post(
        f"/budgets/manage/{open_budget.pk}/edit/",
        _edit_post(open_budget, **_date("starts_on", open_budget.starts_on - timedelta(days=7))),
    )
    assert "The start date cannot change once money has been paid in" in response.content.decode()
    response = client.post(
        f"/budgets/manage/{open_budget.pk}/edit/",
        _edit_post(open_budget, **_date("ends_on", open_budget.starts_on + timedelta(days=3))),
    )
    assert "when money was last paid in" in response.content.decode()
    assert PersonalBudget.objects.get(pk=open_budget.pk).ends_on == open_budget.ends_on


def test_shortening_a_budget_cancels_loads_after_the_new_end_and_pays_the_last_pro_rata(
    open_budget,
):
    new_end = open_budget.starts_on + timedelta(days=69)  # loads on days 0, 28 and 56
    budget_update(budget=open_budget, actor=None, ends_on=new_end)
    loads = {load.due_on: load for load in BudgetLoad.objects.filter(budget=open_budget)}
    scheduled = [load for load in loads.values() if load.status == LoadStatus.SCHEDULED]
    assert [load.due_on for load in scheduled] == [open_budget.starts_on + timedelta(days=56)]
    assert scheduled[0].amount_pence == open_budget.annual_amount_pence * 14 // 364
    assert all(load.status == LoadStatus.CANCELLED for day, load in loads.items() if day > new_end)


def test_suspending_a_budget_stops_loads_until_it_is_active_again(officer, open_budget):
    client, _ = officer
    client.post(
        f"/budgets/manage/{open_budget.pk}/edit/", _edit_post(open_budget, status="suspended")
    )
    open_budget.refresh_from_db()
    assert open_budget.status == BudgetStatus.SUSPENDED
    later = timezone.localdate() + timedelta(days=60)
    assert budget_loads_post_due(on=later) == 0


# --- The support plan -------------------------------------------------------------------


def test_officer_changes_the_plan_and_the_card_decisions_follow(officer, open_budget):
    client, _ = officer
    card = Card.objects.create(budget=open_budget, scheme=CardScheme.DEFAULT, reference="C-1")
    response = client.post(
        f"/budgets/manage/{open_budget.pk}/plan/",
        {
            "outcomes": "Get out and about every week",
            "allowed_categories": ["transport"],
            "cash_allowed": "on",
            "cash_limit_pence": "40",
            **_date("agreed_on", open_budget.starts_on),
        },
    )
    assert response.status_code == 302
    plan = open_budget.support_plan
    plan.refresh_from_db()
    assert plan.allowed_categories == ["transport"]
    assert plan.cash_allowed and plan.cash_limit_pence == 4_000
    assert _audited(plan, AuditAction.CHANGED)
    event = AuditEvent.objects.get(object_id=str(plan.pk), action=AuditAction.CHANGED)
    assert set(event.changed_fields) == {"allowed_categories", "cash_allowed", "cash_limit_pence"}
    # Cash up to the new limit, in pence, is approved; more is declined.
    card.scheme, card.reference = CardScheme.STRIPE, "ic_plan_card"
    card.save()
    cash = {"category": "automated_cash_disburse", "category_code": "6011", "name": "ATM"}

    def ask(ident, pence):
        return card_authorization_decide(
            authorization={
                "id": ident,
                "card": card.reference,
                "pending_request": {"amount": pence},
                "merchant_data": cash,
            }
        )

    assert ask("iauth_1", 4_000).approved
    assert ask("iauth_2", 100).decline_reason == DeclineReason.CASH_LIMIT


def test_plan_without_cash_clears_the_limit(officer, open_budget):
    client, _ = officer
    plan = open_budget.support_plan
    plan.cash_allowed, plan.cash_limit_pence = True, 5_000
    plan.save()
    client.post(f"/budgets/manage/{open_budget.pk}/plan/", {"outcomes": "Stay well"})
    plan.refresh_from_db()
    assert not plan.cash_allowed and plan.cash_limit_pence == 0
    assert plan.outcomes == ["Stay well"] and plan.allowed_categories == []


# --- Cards, against stripe-mock ----------------------------------------------------------


@pytest.mark.stripe_mock
def test_officer_issues_a_card_through_stripe_and_it_is_audited(
    stripe_settings, officer, open_budget
):
    client, user = officer
    response = client.post(
        f"/budgets/manage/{open_budget.pk}/cards/new/",
        {"kind": "virtual", "email": "sam@example.org"},
    )
    assert response.status_code == 302
    card = Card.objects.get(budget=open_budget)
    assert card.scheme == CardScheme.STRIPE and card.reference.startswith("ic_")
    assert card.stripe_cardholder_id.startswith("ich_")
    event = AuditEvent.objects.get(object_id=str(card.pk), object_type="budgets.card")
    assert event.actor == user and event.budget_holder == open_budget.budget_holder
    # A second active card on the same budget is refused until the first is frozen.
    assert card.status == CardStatus.ACTIVE
    response = client.post(f"/budgets/manage/{open_budget.pk}/cards/new/", {"kind": "virtual"})
    assert "already has an active card" in response.content.decode()
    assert Card.objects.filter(budget=open_budget).count() == 1


@pytest.mark.stripe_mock
def test_freeze_unfreeze_and_cancel_reach_stripe_and_our_rules(
    stripe_settings, officer, open_budget
):
    client, _ = officer
    card = Card.objects.create(
        budget=open_budget, scheme=CardScheme.STRIPE, reference="ic_1", last4="4242"
    )
    # stripe-mock answers for any card id; the change is recorded once Stripe accepts it.
    assert client.get(f"/budgets/manage/cards/{card.pk}/freeze/").status_code == 200
    assert client.post(f"/budgets/manage/cards/{card.pk}/freeze/").status_code == 302
    card.refresh_from_db()
    assert card.status == CardStatus.INACTIVE
    declined = card_authorization_decide(
        authorization={
            "id": "iauth_frozen",
            "card": card.reference,
            "pending_request": {"amount": 500},
            "merchant_data": {"category": "taxicabs_limousines", "category_code": "4121"},
        }
    )
    assert declined.decline_reason == DeclineReason.CARD_INACTIVE
    assert client.post(f"/budgets/manage/cards/{card.pk}/unfreeze/").status_code == 302
    card.refresh_from_db()
    assert card.status == CardStatus.ACTIVE
    assert client.post(f"/budgets/manage/cards/{card.pk}/cancel/").status_code == 302
    card.refresh_from_db()
    assert card.status == CardStatus.CANCELED
    # Cancelled is final.
    response = client.post(f"/budgets/manage/cards/{card.pk}/unfreeze/")
    assert response.status_code == 400 and "cannot be unfrozen" in response.content.decode()
    actions = AuditEvent.objects.filter(object_type="budgets.card", object_id=str(card.pk))
    assert sorted(actions.values_list("summary", flat=True)) == [
        f"Card {card.pk} cancelled",
        f"Card {card.pk} frozen",
        f"Card {card.pk} unfrozen",
    ]


def test_scheme_cards_are_not_changed_here(officer, open_budget):
    client, _ = officer
    card = Card.objects.create(budget=open_budget, scheme=CardScheme.ALLPAY, reference="AP-1")
    assert client.post(f"/budgets/manage/cards/{card.pk}/freeze/").status_code == 404
    assert Card.objects.get(pk=card.pk).status == CardStatus.ACTIVE


def test_without_stripe_the_officer_is_told_plainly(no_stripe, officer, open_budget):
    client, _ = officer
    response = client.post(f"/budgets/manage/{open_budget.pk}/cards/new/", {"kind": "virtual"})
    assert "Stripe is not set up on this site" in response.content.decode()
    assert not Card.objects.filter(budget=open_budget).exists()


# --- Proxies, from the staff page ---------------------------------------------------------


def test_officer_adds_and_ends_a_proxy_from_the_staff_page(officer, open_budget):
    client, _ = officer
    holder = open_budget.budget_holder
    page = client.get(f"/budgets/manage/people/{holder.pk}/").content.decode()
    assert f"/people/{holder.pk}/proxies/add/" in page
    carer = UserFactory(email="carer@example.org")
    response = client.post(
        f"/people/{holder.pk}/proxies/add/",
        {"proxy_email": "carer@example.org", "relationship": "carer", "may_pay": "on"},
    )
    assert response.status_code == 302
    delegation = Delegation.objects.get(budget_holder=holder, proxy=carer)
    assert delegation.may_pay and _audited(delegation, AuditAction.CREATED)
    page = client.get(f"/budgets/manage/people/{holder.pk}/").content.decode()
    assert f"/people/{holder.pk}/proxies/{delegation.pk}/end/" in page
    client.post(f"/people/{holder.pk}/proxies/{delegation.pk}/end/", {"reason": "Moved away"})
    delegation.refresh_from_db()
    assert delegation.revoked_at is not None and not delegation.is_current()


@pytest.mark.stripe_mock
def test_a_plan_change_sends_the_new_controls_to_the_card_at_stripe(
    stripe_settings, officer, open_budget, monkeypatch, django_capture_on_commit_callbacks
):
    from marketplace.budgets import stripe_issuing
    from marketplace.budgets.services import card_issue

    client, _ = officer
    card = card_issue(budget=open_budget)
    sent = []
    real_update = stripe_issuing.card_controls_update

    def spy(*, card_id, budget):
        sent.append((card_id, stripe_issuing.spending_controls(budget=budget)))
        return real_update(card_id=card_id, budget=budget)  # still answered by stripe-mock

    monkeypatch.setattr(stripe_issuing, "card_controls_update", spy)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/budgets/manage/{open_budget.pk}/plan/",
            {"outcomes": "Stay well", "cash_allowed": "on", "cash_limit_pence": "50"},
        )
    [(card_id, controls)] = sent
    assert card_id == card.reference
    assert "automated_cash_disburse" not in controls["blocked_categories"]
    assert {
        "amount": 5_000,
        "interval": "monthly",
        "categories": ["automated_cash_disburse", "manual_cash_disburse"],
    } in controls["spending_limits"]


def test_a_plan_change_without_stripe_still_saves(
    no_stripe, officer, open_budget, django_capture_on_commit_callbacks
):
    client, _ = officer
    Card.objects.create(budget=open_budget, scheme=CardScheme.STRIPE, reference="ic_offline")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/budgets/manage/{open_budget.pk}/plan/", {"outcomes": "Rest"})
    assert response.status_code == 302
    open_budget.support_plan.refresh_from_db()
    assert open_budget.support_plan.outcomes == ["Rest"]


@pytest.mark.stripe_mock
def test_a_stripe_card_can_be_issued_beside_a_council_scheme_card(
    stripe_settings, officer, open_budget
):
    client, _ = officer
    Card.objects.create(budget=open_budget, scheme=CardScheme.ALLPAY, reference="AP-2")
    response = client.post(f"/budgets/manage/{open_budget.pk}/cards/new/", {"kind": "physical"})
    assert response.status_code == 302
    assert open_budget.cards.filter(scheme=CardScheme.STRIPE).count() == 1


def test_change_pages_show_amounts_in_pounds(officer, open_budget):
    client, _ = officer
    plan = open_budget.support_plan
    plan.cash_allowed, plan.cash_limit_pence, plan.approval_required_above_pence = (
        True,
        4_050,
        25_000,
    )
    plan.save()
    budget_page = client.get(f"/budgets/manage/{open_budget.pk}/edit/").content.decode()
    assert 'value="13000.00"' in budget_page
    plan_page = client.get(f"/budgets/manage/{open_budget.pk}/plan/").content.decode()
    assert 'value="40.50"' in plan_page and 'value="250.00"' in plan_page
    # Saving the page unchanged changes nothing.
    client.post(f"/budgets/manage/{open_budget.pk}/edit/", _edit_post(open_budget))
    assert not AuditEvent.objects.filter(
        object_type="budgets.personalbudget", action=AuditAction.CHANGED
    ).exists()
