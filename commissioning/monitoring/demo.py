"""Demo monitoring: run the rules over the demo data, so the queue has real cases.

Makes sure the journeys' cases exist: a budget with 10 weeks of surplus
(journey 4: its holder was in hospital) and Sam's declined attempt at a
betting shop (journey 3).
"""

from datetime import date, timedelta

from django.utils import timezone

from cms.demo import DemoContext
from marketplace.accounts.models import BudgetHolder, CareGroup
from marketplace.budgets.models import (
    Authorization,
    BudgetStatus,
    DeclineReason,
    LoadSchedule,
    PersonalBudget,
)
from marketplace.budgets.services import budget_create, budget_loads_post_due

from .services import monitoring_rules_run


def _open_budget(holder: BudgetHolder, today: date) -> PersonalBudget | None:
    return PersonalBudget.objects.filter(
        budget_holder=holder, status=BudgetStatus.ACTIVE, starts_on__lte=today, ends_on__gte=today
    ).first()


def seed(ctx: DemoContext) -> None:
    today = ctx.today
    # Journey 4: weekly loads for ten weeks, nothing spent while Doreen was in hospital.
    doreen = BudgetHolder.objects.create(
        full_name="Doreen Walker",
        preferred_name="Doreen",
        date_of_birth=date(today.year - 79, 8, 14),
        care_group=CareGroup.OLDER_PEOPLE,
        postcode="N12 0DR",
        council_reference="BAR-109001",
        communication_needs="Hard of hearing: write, or call her son.",
    )
    budget = budget_create(
        budget_holder=doreen,
        annual_amount_pence=1_560_000,  # £300 a week
        load_schedule=LoadSchedule.WEEKLY,
        starts_on=today - timedelta(days=63),
        ends_on=today - timedelta(days=63) + timedelta(days=364),
        outcomes=["Stay living at home", "Keep in touch with friends at the lunch club"],
        allowed_categories=["home_care", "meals", "befriending"],
        approval_required_above_pence=100_000,
    )
    budget_loads_post_due(on=today, budgets=[budget])

    # Journey 3: Sam's card declined at a betting shop yesterday.
    sam = ctx.made.get("personas", {}).get("sam")
    if sam is not None:
        sam_budget = _open_budget(sam, today)
        if sam_budget is None:
            sam_budget = budget_create(
                budget_holder=sam,
                annual_amount_pence=936_000,
                starts_on=today - timedelta(days=200),
                ends_on=today + timedelta(days=165),
                outcomes=["Go on day trips with friends", "Learn to cook"],
            )
            budget_loads_post_due(on=today, budgets=[sam_budget])
        if not Authorization.objects.filter(
            budget=sam_budget,
            decline_reason=DeclineReason.BLOCKED_CATEGORY,
            decided_at__gte=timezone.now() - timedelta(days=7),
        ).exists():
            Authorization.objects.create(
                stripe_authorization_id="iauth_demo_sam_betting",
                budget=sam_budget,
                card=sam_budget.cards.first(),
                amount_pence=2_000,
                merchant_name="Coral Bookmakers Finchley",
                merchant_category="betting_casino_gambling",
                merchant_category_code="7995",
                merchant_postcode="N12 0BT",
                approved=False,
                decline_reason=DeclineReason.BLOCKED_CATEGORY,
                decline_message="Gambling is blocked on personal budget cards.",
                decided_at=timezone.now() - timedelta(days=1),
            )
    monitoring_rules_run(on=today)
