"""Amounts typed in pounds: one field, each use naming its own amount and limit."""

import pytest

from django import forms

from marketplace.budgets.staff_forms import AnnualAmountField
from marketplace.payments.forms import PoundsField


@pytest.mark.parametrize(
    ("typed", "pence"),
    [("25", 2500), ("£1,234.50", 123450), (" 0.01 ", 1), ("100000", 100_000_00)],
)
def test_pounds_are_cleaned_to_pence(typed, pence):
    assert PoundsField().clean(typed) == pence


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("lots", "Enter an amount in pounds, like 25 or 25.50."),
        ("25.505", "Enter an amount in pounds and pence, like 25.50."),
        ("NaN", "Enter an amount in pounds and pence, like 25.50."),
        ("Infinity", "Enter an amount in pounds and pence, like 25.50."),
        ("0", "The amount must be more than £0."),
        ("100000.01", "The amount must be £100,000 or less."),
    ],
)
def test_bad_amounts_say_what_is_wrong(typed, message):
    with pytest.raises(forms.ValidationError) as error:
        PoundsField().clean(typed)
    assert error.value.messages == [message]


@pytest.mark.parametrize(
    ("typed", "outcome"),
    [
        ("£18,200.50", 1_820_050),
        ("1000000", 1_000_000_00),
        ("eighteen", "Enter the annual amount in pounds, like 18200 or 18,200.50."),
        ("-Infinity", "Enter the annual amount in pounds and pence, like 18200.50."),
        ("0", "The annual amount must be more than £0."),
        ("1000000.01", "The annual amount must be £1,000,000 or less."),
    ],
)
def test_the_annual_amount_has_its_own_words_and_limit(typed, outcome):
    if isinstance(outcome, int):
        assert AnnualAmountField().clean(typed) == outcome
        return
    with pytest.raises(forms.ValidationError) as error:
        AnnualAmountField().clean(typed)
    assert error.value.messages == [outcome]
