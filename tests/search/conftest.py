import pytest

from search.services import search_index_rebuild
from tests.search.factories import make_organisation, make_service


@pytest.fixture(params=["database", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def search_backend(request, settings):
    """Run the test once on the embedded default and once on the real Elasticsearch server."""
    if request.param == "database":
        request.getfixturevalue("embedded_default")
    else:
        request.getfixturevalue("use_elasticsearch")
        from search.index import index_drop

        index_drop()
        request.addfinalizer(index_drop)
    return request.param


@pytest.fixture
def es_index(use_elasticsearch):
    """A clean Elasticsearch alias for this test, dropped afterwards."""
    from search.index import index_drop

    index_drop()
    yield
    index_drop()


@pytest.fixture
def directory(db):
    """A small borough: services chosen so each filter keeps some and drops others."""
    barnet_care = make_organisation(
        "Barnet Homecare Partners", sector="private", slug="barnet-homecare"
    )
    services = {
        "morning": make_service(
            "Morning Call Home Care",
            organisation=barnet_care,
            description="Visits to help you wash, dress and take medication.",
            price_pence=2350,
            card=True,
            vacancies=3,
            cqc_rating="Good",
            postcode="N3 1AA",
            areas=("N3", "N12"),
            days=(0, 1, 2, 3, 4, 5, 6),
            languages=("English", "Polish"),
        ),
        "premium": make_service(
            "Premier Live-in Care",
            organisation=barnet_care,
            description="Home care with a carer who lives with you.",
            price_pence=2900,
            card=False,
            vacancies=0,
            cqc_rating="Outstanding",
            postcode="N3 2SB",
            areas=("N3",),
        ),
        "edgware": make_service(
            "Edgware Carers Co-operative",
            organisation=make_organisation("Edgware Carers Co-op", sector="social_enterprise"),
            description="Domiciliary care run by its own carers.",
            price_pence=2100,
            card=True,
            vacancies=1,
            cqc_rating="Requires improvement",
            postcode="HA8 7AA",
        ),
        "lunch": make_service(
            "Friern Barnet Lunch Club",
            organisation=make_organisation(
                "Friern Barnet Community Association", sector="voluntary"
            ),
            description="A hot two-course meal and company, Tuesdays and Thursdays.",
            category="meals",
            price_pence=600,
            unit="meal",
            card=True,
            vacancies=8,
            postcode="N11 1NP",
            days=(1, 3),
            accessibility=("wheelchair", "accessible_toilet"),
        ),
        "day": make_service(
            "Hendon Day Centre",
            organisation=make_organisation("Barnet Council Adult Services", sector="council"),
            description="Day opportunities for adults with learning disabilities: art, cooking and trips.",
            category="day_opportunities",
            care_groups=("learning_disability",),
            price_pence=5500,
            unit="session",
            postcode="NW4 4BE",
            accessibility=("wheelchair", "changing_places"),
            languages=("English", "British Sign Language"),
        ),
        "pa": make_service(
            "Choose Your PA",
            organisation=make_organisation("Independent Living Barnet", sector="user_led"),
            description="Find and employ a personal assistant who fits your life.",
            category="personal_assistants",
            care_groups=("physical_sensory", "learning_disability"),
            price_pence=1500,
            postcode=None,
            areas=("N3", "N2", "NW11"),
            card=True,
        ),
        "enfield": make_service(
            "Enfield Short Breaks",
            organisation=make_organisation("Enfield Respite Trust", sector="voluntary"),
            description="Overnight short breaks so family carers can rest.",
            category="short_breaks",
            care_groups=("older_people", "carers"),
            price_pence=None,
            postcode="EN1 1AA",
            days=(4, 5, 6),
        ),
    }
    return services


@pytest.fixture
def indexed(directory, search_backend):
    """The directory, indexed in the backend under test."""
    search_index_rebuild()
    return directory


@pytest.fixture
def body_timeouts(monkeypatch):
    """The timeout of each profile body stored (cache.set_many) while the test runs."""
    from django.core.cache import cache

    timeouts = []
    set_many = cache.set_many

    def spy(data, timeout, *args, **kwargs):
        timeouts.append(timeout)
        return set_many(data, timeout, *args, **kwargs)

    monkeypatch.setattr(cache, "set_many", spy)
    return timeouts
