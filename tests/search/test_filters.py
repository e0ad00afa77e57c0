"""The FilterSet turns bad input into plain-English errors, never a server error."""

import pytest

from search.selectors import search_services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"postcode": "SW1A"}, "postcode", "We do not have a location for SW1A"),
        ({"postcode": "12345"}, "postcode", "is not a postcode. Enter a postcode, like N3 2SB."),
        ({"max_price": "cheap"}, "max_price", "Enter a maximum price in pounds, like 25 or 25.50."),
        ({"max_price": "-3"}, "max_price", "The maximum price must be £0 or more."),
        ({"sort": "distance"}, "postcode", "Enter a postcode to sort by distance, like N3 2SB."),
        ({"category": "spaceships"}, "category", "Select a valid choice"),
        ({"page": "0"}, "page", "Enter a page number, like 2."),
    ],
)
def test_bad_input_gives_a_plain_english_error(embedded_default, params, field, message):
    filterset, result = search_services(params=params)

    assert not filterset.is_valid()
    assert message in " ".join(result.errors[field])
    assert result.total == 0 and result.items == []


def test_a_bad_postcode_on_the_page_shows_the_error_summary_not_a_server_error(
    embedded_default, client
):
    response = client.get("/find/", {"q": "home care", "postcode": "ZZ99 9ZZ"})

    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content
    assert 'href="#id_postcode"' in content
    assert "We do not have a location for ZZ99" in content


def test_clean_values_are_what_both_backends_read(embedded_default):
    filterset, _ = search_services(
        params={
            "q": "  lunch   club ",
            "postcode": "n3 2sb",
            "max_price": "6.50",
            "card": "1",
            "language": "Polish",
        }
    )

    cleaned = filterset.form.cleaned_data
    assert cleaned["q"] == "lunch club"
    assert cleaned["postcode"] == "N3 2SB" and cleaned["postcode_district"] == "N3"
    assert cleaned["origin"] == pytest.approx((51.6, -0.192))
    assert cleaned["distance_miles"] == 5
    assert cleaned["max_price_pence"] == 650
    assert cleaned["card"] is True and cleaned["language"] == "polish"
    assert cleaned["sort"] == "relevance"


def test_an_unticked_box_does_not_narrow_the_search(embedded_default):
    filterset, _ = search_services(params={"card": "", "vacancies": "0"})

    assert filterset.is_valid()
    assert not filterset.form.cleaned_data["card"] and not filterset.form.cleaned_data["vacancies"]
