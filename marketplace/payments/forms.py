from decimal import Decimal, InvalidOperation

from django import forms

from cms.forms import GovukDateField
from marketplace.accounts.models import BudgetHolder
from marketplace.providers.models import Organisation
from marketplace.providers.taxonomy import ServiceCategory

from .matching import normalise_postcode
from .models import InvoiceKind


class PoundsField(forms.CharField):
    """An amount typed in pounds ("25", "£1,234.50"), cleaned to integer pence.

    Subclasses name their own amount and limit (``messages``, ``most_pence``)."""

    most_pence = 100_000_00
    messages = {
        "invalid": "Enter an amount in pounds, like 25 or 25.50.",
        "pence": "Enter an amount in pounds and pence, like 25.50.",
        "too_small": "The amount must be more than £0.",
        "too_big": "The amount must be £100,000 or less.",
    }

    def __init__(self, *, min_pence: int = 1, **kwargs):
        self.min_pence = min_pence
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"inputmode": "decimal", "class": "govuk-input--width-10"}),
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if value in (None, ""):
            return None
        text = str(value).replace("£", "").replace(",", "").strip()
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise forms.ValidationError(self.messages["invalid"]) from None
        # "NaN" and "Infinity" parse as decimals but have no pence.
        if not amount.is_finite() or amount.as_tuple().exponent < -2:
            raise forms.ValidationError(self.messages["pence"])
        pence = int(amount * 100)
        if pence < self.min_pence:
            raise forms.ValidationError(self.messages["too_small"])
        if pence > self.most_pence:
            raise forms.ValidationError(self.messages["too_big"])
        return pence


class InvoiceForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label="Which organisation is this from?",
        queryset=Organisation.objects.none(),
        empty_label=None,
    )
    kind = forms.ChoiceField(
        label="Is this an invoice or a booking?",
        choices=InvoiceKind.choices,
        widget=forms.RadioSelect,
    )
    council_reference = forms.CharField(
        label="The person's council reference",
        max_length=30,
        help_text="It is on their support plan, for example BAR-100002.",
    )
    postcode = forms.CharField(label="The person's postcode", max_length=10)
    provider_reference = forms.CharField(
        label="Your reference",
        max_length=60,
        help_text="The number on your own invoice or booking.",
    )
    description = forms.CharField(
        label="What it is for", max_length=300, widget=forms.Textarea(attrs={"rows": 3})
    )
    category = forms.ChoiceField(label="Type of support", choices=ServiceCategory.choices)
    amount_pence = PoundsField(label="Amount in pounds")
    due_on = GovukDateField(label="Due")

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = organisations
        if organisations.count() == 1:
            self.fields["organisation"].initial = organisations.first()
            self.fields["organisation"].widget = forms.HiddenInput()
        self.fields["kind"].initial = InvoiceKind.INVOICE

    def clean(self):
        cleaned = super().clean()
        reference = (cleaned.get("council_reference") or "").strip().upper()
        postcode = normalise_postcode(cleaned.get("postcode") or "")
        if reference and postcode:
            person = BudgetHolder.objects.filter(council_reference__iexact=reference).first()
            # The same answer whether the reference or the postcode is wrong, so
            # nobody can find out who has a personal budget by trying references.
            if person is None or normalise_postcode(person.postcode) != postcode:
                self.add_error(
                    "council_reference",
                    "We could not find a person with that council reference and postcode. "
                    "Check both with the person.",
                )
            else:
                cleaned["budget_holder"] = person
        return cleaned


class PayForm(forms.Form):
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Do you approve this payment?",
        choices=[("approve", "Yes, approve and pay it"), ("decline", "No, decline it")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether you approve this payment."},
    )
    note = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        help_text="The person and the provider see this if you decline.",
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "decline" and not cleaned.get("note"):
            self.add_error("note", "Enter the reason you are declining this payment.")
        return cleaned


class MerchantConfirmForm(forms.Form):
    NONE = "none"
    merchant_key = forms.CharField(widget=forms.HiddenInput, max_length=200)
    organisation = forms.ModelChoiceField(
        label="Provider",
        queryset=Organisation.objects.order_by("name"),
        required=False,
        empty_label="Not a provider in the directory",
    )
