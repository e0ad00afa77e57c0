"""Prices typed by providers or read from an import: words that parse as decimals but are no price."""

import pytest

from django import forms

from marketplace.providers.forms import _pounds_to_pence
from marketplace.providers.importers import _Bad, _pence


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "-Infinity", "sNaN"])
def test_the_service_form_says_what_a_price_looks_like(typed):
    with pytest.raises(forms.ValidationError) as error:
        _pounds_to_pence(typed)
    assert error.value.messages == ["Enter a price in pounds, like 22.50."]


@pytest.mark.parametrize("typed", ["NaN", "Infinity", "sNaN"])
def test_an_import_reports_the_price_instead_of_failing(typed):
    with pytest.raises(_Bad, match=f"price “{typed}” is not an amount in pounds"):
        _pence(typed)


def test_good_prices_still_read_as_pence():
    assert _pounds_to_pence("£22.50") == 2250 and _pence("1,234.5") == 123450
