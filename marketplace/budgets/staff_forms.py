"""Forms for council staff setting up budgets, support plans and cards. Errors in plain English."""

from django import forms

from cms.forms import GovukDateField
from marketplace.accounts.models import CareGroup
from marketplace.payments.forms import PoundsField
from marketplace.providers.taxonomy import ServiceCategory

from .models import BudgetStatus, Deployment, LoadSchedule

MOST_ANNUAL_PENCE = 1_000_000_00  # £1 million: well above any one person's care budget


class AnnualAmountField(PoundsField):
    """An annual budget in pounds ("18,200" or "£18,200.50"), cleaned to integer pence."""

    most_pence = MOST_ANNUAL_PENCE
    messages = {
        "invalid": "Enter the annual amount in pounds, like 18200 or 18,200.50.",
        "pence": "Enter the annual amount in pounds and pence, like 18200.50.",
        "too_small": "The annual amount must be more than £0.",
        "too_big": "The annual amount must be £1,000,000 or less.",
    }


def _radio(label: str, choices, message: str) -> forms.ChoiceField:
    return forms.ChoiceField(
        label=label,
        choices=choices,
        widget=forms.RadioSelect,
        error_messages={"required": message, "invalid_choice": message},
    )


class BudgetForm(forms.Form):
    annual_amount_pence = AnnualAmountField(
        label="Annual amount, in pounds",
        help_text="The personal budget for a whole year. Loads are this amount spread over 52 weeks.",
        error_messages={"required": "Enter the annual amount."},
    )
    load_schedule = _radio(
        "How often is money paid in?",
        LoadSchedule.choices,
        "Select how often money is paid in.",
    )
    starts_on = GovukDateField(label="Start", help_text="For example, 1 4 2026")
    ends_on = GovukDateField(label="End", help_text="For example, 31 3 2027")
    care_group = _radio("Care group", CareGroup.choices, "Select the care group.")
    deployment = _radio(
        "How is the budget taken?", Deployment.choices, "Select how the budget is taken."
    )

    def clean(self):
        cleaned = super().clean()
        starts_on, ends_on = cleaned.get("starts_on"), cleaned.get("ends_on")
        if starts_on and ends_on and ends_on <= starts_on:
            self.add_error("ends_on", "The end date must be after the start date.")
        return cleaned


class BudgetEditForm(BudgetForm):
    status = _radio(
        "Status",
        [
            (BudgetStatus.ACTIVE, "Active: money is paid in and the card works"),
            (BudgetStatus.SUSPENDED, "Suspended: no money is paid in and the card is declined"),
            (BudgetStatus.CLOSED, "Closed"),
        ],
        "Select the status.",
    )


class SupportPlanForm(forms.Form):
    outcomes = forms.CharField(
        label="Outcomes",
        required=False,
        help_text="What the person wants their support to achieve. One outcome on each line.",
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=5000,
    )
    allowed_categories = forms.MultipleChoiceField(
        label="What the budget may be spent on",
        help_text="Leave all unticked to allow any kind of care and support.",
        choices=ServiceCategory.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Select kinds of support from the list."},
    )
    cash_allowed = forms.BooleanField(
        label="The plan allows cash (cash machines and cash back)", required=False
    )
    cash_limit_pence = PoundsField(
        label="Most cash in any 4 weeks, in pounds",
        required=False,
        help_text="Needed when the plan allows cash.",
    )
    approval_required_above_pence = PoundsField(
        label="Marketplace payments above this amount need a monitoring officer's approval, in pounds",
        required=False,
        help_text="Leave empty if no payment needs approval.",
    )
    agreed_on = GovukDateField(
        label="Plan agreed on",
        required=False,
        help_text="For example, 27 3 2026. Leave empty to use the budget's start date.",
    )

    def clean_outcomes(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["outcomes"].splitlines()]
        return [line for line in lines if line]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("cash_allowed"):
            if not cleaned.get("cash_limit_pence") and "cash_limit_pence" not in self.errors:
                self.add_error(
                    "cash_limit_pence", "Enter the most cash that may be taken out in 4 weeks."
                )
        else:
            if cleaned.get("cash_limit_pence"):
                self.add_error(
                    "cash_limit_pence",
                    "Tick “The plan allows cash” to set a cash limit, or leave the limit empty.",
                )
            cleaned["cash_limit_pence"] = 0
        return cleaned


class BudgetSetUpForm(BudgetForm, SupportPlanForm):
    """A new budget and its support plan on one page."""

    field_order = [*BudgetForm.base_fields, *SupportPlanForm.base_fields]


class CardIssueForm(forms.Form):
    kind = _radio(
        "What kind of card?",
        [
            ("virtual", "Virtual card: ready to use straight away, online and on a phone"),
            ("physical", "Physical card: posted to the person"),
        ],
        "Select what kind of card to issue.",
    )
    email = forms.EmailField(
        label="Email address for the card",
        required=False,
        help_text="Stripe sends card messages here. Leave empty if the person has none.",
        error_messages={"invalid": "Enter an email address like name@example.com."},
    )
