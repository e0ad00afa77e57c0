import pytest

from marketplace.providers.geo import (
    PostcodeError,
    coordinates_for_postcode,
    haversine_metres,
    normalise_postcode,
    postcode_district,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(" n3  2sb ", "N3 2SB"), ("NW112AB", "NW11 2AB"), ("en5 1aa", "EN5 1AA"), ("n3", "N3")],
)
def test_postcodes_are_normalised(raw, expected):
    assert normalise_postcode(raw) == expected


def test_district_is_the_outward_code():
    assert postcode_district("nw11 7hp") == "NW11"
    assert postcode_district("HA8 0AB") == "HA8"


@pytest.mark.parametrize("raw", ["", "hello", "N3 2S", "12345"])
def test_malformed_postcodes_are_refused_with_a_clear_message(raw):
    with pytest.raises(PostcodeError, match="postcode"):
        normalise_postcode(raw)


def test_postcode_outside_the_area_is_an_error_not_a_guess():
    with pytest.raises(PostcodeError, match="We do not have a location for M1"):
        coordinates_for_postcode("M1 1AA")


def test_barnet_postcodes_have_coordinates():
    latitude, longitude = coordinates_for_postcode("N3 2SB")
    assert 51.5 < latitude < 51.7 and -0.3 < longitude < -0.1


def test_haversine_distance_between_finchley_and_barnet_is_a_few_kilometres():
    n3 = coordinates_for_postcode("N3")
    en5 = coordinates_for_postcode("EN5")
    assert 5_000 < haversine_metres(*n3, *en5) < 7_000
    assert haversine_metres(*n3, *n3) == 0
