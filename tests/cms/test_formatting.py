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


@pytest.mark.parametrize(
    ("query", "changes", "expected"),
    [
        ("q=home+care&page=2", {"page": 3}, "?q=home+care&page=3"),
        ("q=home+care&page=2", {"page": None}, "?q=home+care"),
        ("page=2&q=a%26b", {"sort": "price"}, "?page=2&q=a%26b&sort=price"),
        ("page=2&sort=rating&q=x", {"sort": "", "page": 1}, "?page=1&q=x"),
        ("day=monday&day=friday", {}, "?day=monday&day=friday"),
        ("", {"reviews_page": ""}, "?"),
    ],
)
def test_query_transform_changes_only_the_parameters_named(query, changes, expected):
    from django.test import RequestFactory

    from cms.templatetags.govuk import query_transform

    request = RequestFactory().get(f"/find/?{query}")
    assert query_transform({"request": request}, **changes) == expected
