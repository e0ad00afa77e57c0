"""The Open Referral UK API: every response validates against the ORUK 3.0 compiled schemas."""

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from django.db import connection
from django.test.utils import CaptureQueriesContext

from marketplace.providers.models import (
    CqcRating,
    Organisation,
    OrganisationStatus,
    ServedGroup,
    ServiceAccessibility,
    ServiceStatus,
)
from marketplace.providers.oruk.serializers import category_term_id, group_term_id
from marketplace.providers.taxonomy import ServiceCategory

from .factories import ServiceFactory

SCHEMAS = Path(__file__).parent / "oruk_schemas"
PAGE_KEYS = {
    "total_items",
    "total_pages",
    "page_number",
    "size",
    "first_page",
    "last_page",
    "empty",
    "contents",
}

pytestmark = pytest.mark.django_db


# taxonomy.json refers to taxonomy_term.json by file name.
REGISTRY = Registry().with_resources(
    (path.name, DRAFT202012.create_resource(json.loads(path.read_text())))
    for path in SCHEMAS.glob("*.json")
)


def validate(data, schema_name):
    schema = json.loads((SCHEMAS / f"{schema_name}.json").read_text())
    validator = Draft202012Validator(schema, format_checker=FormatChecker(), registry=REGISTRY)
    errors = sorted(validator.iter_errors(data), key=lambda e: e.path)
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


def validate_page(data, item_schema):
    assert set(data) >= PAGE_KEYS
    assert data["size"] == len(data["contents"])
    for item in data["contents"]:
        validate(item, item_schema)


@pytest.fixture
def directory():
    charity = Organisation.objects.create(
        name="Finchley Lunch Club",
        sector="voluntary",
        description="Hot lunches and company.",
        charity_number="1123456",
        email="hello@lunch.example.org",
        website="https://lunch.example.org",
    )
    lunch = ServiceFactory(
        organisation=charity,
        name="Lunch club",
        category=ServiceCategory.MEALS,
        minimum_age=60,
        maximum_age=None,
        contact_phone="020 8000 0000",
        contact_email="lunch@lunch.example.org",
    )
    ServiceAccessibility.objects.create(service=lunch, feature="wheelchair")
    care = ServiceFactory(
        name="Home care Barnet",
        cqc_location_id="1-123456789",
        cqc_rating=CqcRating.GOOD,
        minimum_age=18,
        maximum_age=64,
    )
    hidden = ServiceFactory(name="Unpublished draft")
    hidden.live = False
    hidden.save()
    closed_org = ServiceFactory(name="Closed provider service")
    Organisation.objects.filter(pk=closed_org.organisation_id).update(
        status=OrganisationStatus.CLOSED
    )
    ServiceFactory(name="Paused service", status=ServiceStatus.TEMPORARILY_CLOSED)
    return {"lunch": lunch, "care": care, "hidden": hidden}


def test_index_names_the_profile_and_openapi(client):
    data = client.get("/api/oruk/").json()
    assert data["version"] == "3.0"
    assert data["profile"] == "HSDS-UK-3.0"
    openapi = client.get(data["openapi_url"].replace("http://testserver", ""))
    assert openapi.status_code == 200
    assert "/services" in openapi.json()["paths"]


def test_api_is_open_to_every_origin(client):
    response = client.get("/api/oruk/services", HTTP_ORIGIN="https://other.example")
    assert response["Access-Control-Allow-Origin"] == "*"


def test_services_list_shows_only_published_services_and_validates(client, directory):
    data = client.get("/api/oruk/services").json()
    validate_page(data, "service_list")
    names = [item["name"] for item in data["contents"]]
    assert "Lunch club" in names and "Home care Barnet" in names and "Paused service" in names
    assert "Unpublished draft" not in names and "Closed provider service" not in names
    assert data["total_items"] == 3


def test_service_detail_is_fully_nested_and_validates(client, directory):
    lunch = directory["lunch"]
    data = client.get(f"/api/oruk/services/{lunch.oruk_id}").json()
    validate(data, "service")
    assert data["organization"]["organization_identifiers"][0]["identifier"] == "1123456"
    assert data["cost_options"][0]["amount"] == 22.0
    assert data["schedules"][0]["byday"] == "MO"
    assert data["service_areas"][0]["name"] == "N3"
    location = data["service_at_locations"][0]["location"]
    assert location["addresses"][0]["postal_code"] == "N3 1XP"
    assert location["accessibility"][0]["accessibility"] == "wheelchair"
    assert {a["taxonomy_term"]["term"] for a in data["attributes"]} == {"meals", "older_people"}
    assert "x_scc_rating" in data


def test_unpublished_service_is_not_found(client, directory):
    response = client.get(f"/api/oruk/services/{directory['hidden'].oruk_id}")
    assert response.status_code == 404
    assert client.get("/api/oruk/services/not-a-uuid").status_code == 404


def test_services_filter_by_taxonomy_term_age_day_and_search(client, directory):
    meals = client.get(
        "/api/oruk/services", {"taxonomy_term_id": str(category_term_id("meals"))}
    ).json()
    assert [item["name"] for item in meals["contents"]] == ["Lunch club"]
    older = client.get(
        "/api/oruk/services", {"taxonomy_term_id": str(group_term_id(ServedGroup.OLDER_PEOPLE))}
    ).json()
    assert older["total_items"] == 3
    aged = client.get("/api/oruk/services", {"minimum_age": "50"}).json()
    assert [item["name"] for item in aged["contents"]] == ["Lunch club"]
    capped = client.get("/api/oruk/services", {"maximum_age": "64"}).json()
    assert [item["name"] for item in capped["contents"]] == ["Home care Barnet"]
    assert client.get("/api/oruk/services", {"day": "MO"}).json()["total_items"] == 3
    assert client.get("/api/oruk/services", {"day": "sunday"}).json()["total_items"] == 0
    found = client.get("/api/oruk/services", {"search": "lunch"}).json()
    assert [item["name"] for item in found["contents"]] == ["Lunch club"]


def test_pagination(client, directory):
    first = client.get("/api/oruk/services", {"per_page": "2"}).json()
    second = client.get("/api/oruk/services", {"per_page": "2", "page": "2"}).json()
    assert first["total_pages"] == 2 and first["first_page"] and not first["last_page"]
    assert second["size"] == 1 and second["last_page"]
    assert {i["id"] for i in first["contents"]}.isdisjoint({i["id"] for i in second["contents"]})


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"page": "0"}, "page must be at least 1"),
        ({"per_page": "lots"}, "per_page must be a whole number"),
        ({"per_page": "5000"}, "at most 200"),
        ({"minimum_age": "old"}, "minimum_age must be a number"),
        ({"day": "someday"}, "day must be a day of the week"),
        ({"taxonomy_term_id": "6f1c3f55-0000-4000-8000-000000000000"}, "no taxonomy term"),
    ],
)
def test_bad_parameters_get_400_with_a_reason(client, params, reason):
    response = client.get("/api/oruk/services", params)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_service_at_locations_near_a_postcode_validate_and_are_in_distance_order(client, directory):
    data = client.get(
        "/api/oruk/service_at_locations", {"postcode": "N3 2SB", "proximity": "2000"}
    ).json()
    validate_page(data, "service_at_location_list")
    assert data["total_items"] == 3
    distances = [item["x_scc_distance_metres"] for item in data["contents"]]
    assert distances == sorted(distances) and distances[0] < 2000
    far = client.get(
        "/api/oruk/service_at_locations", {"postcode": "EN5 1AA", "proximity": "1000"}
    ).json()
    assert far["total_items"] == 0 and far["empty"]


def test_service_at_locations_by_postcode_area_without_proximity(client, directory):
    data = client.get("/api/oruk/service_at_locations", {"postcode": "N3 1AA"}).json()
    assert data["total_items"] == 3
    assert (
        client.get("/api/oruk/service_at_locations", {"postcode": "HA8 1AA"}).json()["total_items"]
        == 0
    )


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"postcode": "M1 1AA"}, "We do not have a location for M1"),
        ({"postcode": "nonsense", "proximity": "100"}, "is not a postcode"),
        ({"proximity": "100"}, "proximity needs a postcode"),
        ({"postcode": "N3", "proximity": "-5"}, "proximity must be a number of 0 or more"),
    ],
)
def test_bad_location_parameters_get_400(client, params, reason):
    response = client.get("/api/oruk/service_at_locations", params)
    assert response.status_code == 400
    assert reason in response.json()["error"]


def test_service_at_location_detail_validates(client, directory):
    location = directory["care"].locations.get()
    data = client.get(f"/api/oruk/service_at_locations/{location.service_at_location_id}").json()
    validate(data, "service_at_location")
    assert data["service"]["name"] == "Home care Barnet"
    assert data["service"]["x_scc_cqc"]["rating"] == "Good"
    assert (
        client.get(
            f"/api/oruk/service_at_locations/{directory['hidden'].locations.get().service_at_location_id}"
        ).status_code
        == 404
    )


def test_taxonomies_and_terms_validate(client):
    page = client.get("/api/oruk/taxonomies").json()
    validate_page(page, "taxonomy")
    assert page["total_items"] == 2
    taxonomy = client.get(f"/api/oruk/taxonomies/{page['contents'][0]['id']}").json()
    validate(taxonomy, "taxonomy")
    assert len(taxonomy["taxonomy_terms"]) == len(ServiceCategory.choices)
    terms = client.get("/api/oruk/taxonomy_terms", {"per_page": "100"}).json()
    validate_page(terms, "taxonomy_term")
    assert terms["total_items"] == len(ServiceCategory.choices) + len(ServedGroup.choices)
    one = client.get(f"/api/oruk/taxonomy_terms/{category_term_id('transport')}").json()
    validate(one, "taxonomy_term")
    assert one["name"] == "Transport"
    assert client.get(f"/api/oruk/taxonomy_terms/{category_term_id('nothing')}").status_code == 404


def test_list_pages_cost_a_fixed_number_of_queries(client, directory):
    with CaptureQueriesContext(connection) as small:
        client.get("/api/oruk/service_at_locations", {"postcode": "N3", "proximity": "5000"})
    for number in range(10):
        ServiceFactory(name=f"Extra {number}")
    with CaptureQueriesContext(connection) as large:
        data = client.get(
            "/api/oruk/service_at_locations", {"postcode": "N3", "proximity": "5000"}
        ).json()
    assert data["total_items"] == 13
    assert len(large) == len(small)
    with CaptureQueriesContext(connection) as listing:
        client.get("/api/oruk/services")
    assert len(listing) <= 5


def test_only_get_is_allowed(client):
    assert client.post("/api/oruk/services").status_code == 405


def test_ratings_travel_as_an_extension_field(client, directory):
    from decimal import Decimal

    from marketplace.reviews.models import OrganisationRating

    lunch = directory["lunch"]
    OrganisationRating.objects.create(
        organisation=lunch.organisation,
        review_count=4,
        rating_total=18,
        smoothed_rating=Decimal("3.944"),
    )
    data = client.get(f"/api/oruk/services/{lunch.oruk_id}").json()
    validate(data, "service")
    assert data["x_scc_rating"] == {"count": 4, "average": 4.5, "smoothed": 3.944, "out_of": 5}
    unrated = client.get(f"/api/oruk/services/{directory['care'].oruk_id}").json()
    assert unrated["x_scc_rating"]["count"] == 0 and unrated["x_scc_rating"]["average"] is None


def _schedules(service, *rows):
    from datetime import time

    from marketplace.providers.models import RegularSchedule

    RegularSchedule.objects.filter(service=service).delete()
    for weekday, opens, closes in rows:
        RegularSchedule.objects.create(
            service=service, weekday=weekday, opens_at=time(*opens), closes_at=time(*closes)
        )


def test_services_filter_by_start_and_end_time(client, directory):
    # Lunch club: Monday 11:30-14:00 and Thursday 09:00-15:00; home care: Monday 07:00-22:00.
    _schedules(directory["lunch"], (0, (11, 30), (14, 0)), (3, (9, 0), (15, 0)))
    _schedules(directory["care"], (0, (7, 0), (22, 0)))

    def names(params):
        data = client.get("/api/oruk/services", params).json()
        validate_page(data, "service_list")
        return sorted(item["name"] for item in data["contents"])

    # "a start time of at least" start_time, "an end time of at or below" end_time.
    assert names({"start_time": "11:00"}) == ["Lunch club"]
    assert names({"start_time": "07:00", "end_time": "14:00"}) == ["Lunch club"]
    assert names({"end_time": "20:00:00"}) == ["Lunch club", "Paused service"]  # factory: 08-20
    assert names({"start_time": "06:00", "end_time": "23:00"}) == [
        "Home care Barnet",
        "Lunch club",
        "Paused service",
    ]
    # One opening must meet day and times together: the lunch club's Thursday starts at 9.
    assert names({"day": "TH", "start_time": "10:00"}) == []
    assert names({"day": "TH", "start_time": "09:00"}) == ["Lunch club"]
    assert names({"day": "MO", "start_time": "11:00", "end_time": "14:00"}) == ["Lunch club"]
    # The same parameters narrow service_at_locations.
    at_locations = client.get("/api/oruk/service_at_locations", {"start_time": "11:00"}).json()
    validate_page(at_locations, "service_at_location_list")
    assert {item["service"]["name"] for item in at_locations["contents"]} == {"Lunch club"}


def test_services_filter_by_taxonomy(client, directory):
    from marketplace.providers.models import ServiceCareGroup
    from marketplace.providers.oruk.serializers import CATEGORY_TAXONOMY_ID, GROUP_TAXONOMY_ID

    ServiceCareGroup.objects.filter(service=directory["care"]).delete()
    by_category = client.get("/api/oruk/services", {"taxonomy_id": str(CATEGORY_TAXONOMY_ID)})
    by_group = client.get("/api/oruk/services", {"taxonomy_id": str(GROUP_TAXONOMY_ID)})

    assert by_category.json()["total_items"] == 3
    assert sorted(item["name"] for item in by_group.json()["contents"]) == [
        "Lunch club",
        "Paused service",
    ]
    validate_page(by_group.json(), "service_list")


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"start_time": "9am"}, "start_time must be a time of day"),
        ({"end_time": "25:00"}, "end_time must be a time of day"),
        ({"start_time": "9:00"}, "start_time must be a time of day"),
        ({"start_time": "14:00", "end_time": "09:00"}, "end_time must be later than start_time"),
        ({"taxonomy_id": "6f1c3f55-0000-4000-8000-000000000000"}, "no taxonomy with id"),
        ({"maximum_age": "-1"}, "maximum_age must be a number of 0 or more"),
    ],
)
def test_bad_time_and_taxonomy_parameters_get_400(client, params, reason):
    for path in ("/api/oruk/services", "/api/oruk/service_at_locations"):
        response = client.get(path, params)
        assert response.status_code == 400
        assert reason in response.json()["error"]
