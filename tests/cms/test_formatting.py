import pytest

from cms.formatting import format_pence
from cms.templatetags.govuk import pence


@pytest.mark.parametrize(
    ("value", "text"),
    [(2150, "£21.50"), (-500, "-£5.00"), (123456, "£1,234.56"), (0, "£0.00"), (7, "£0.07")],
)
def test_money_is_written_the_same_everywhere(value, text):
    assert format_pence(value) == text
    assert pence(value) == text
    assert pence(str(value)) == text


def test_the_template_filter_leaves_missing_amounts_blank():
    assert pence(None) == "" and pence("") == ""
