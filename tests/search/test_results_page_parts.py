"""The results page renders its frame while Elasticsearch searches (search.views): the
query is sent first, the frame rendered, then the answer read and the four parts that
need it written in. Nothing of the stand-ins reaches the visitor, and text a visitor
types cannot pose as one."""

import pytest

from search import client as search_client
from search import views

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(monkeypatch):
    """What the results page did, in order: sends, reads and template renders."""
    happened = []
    send = search_client.PendingSearch._send
    read = search_client.PendingSearch.json
    render = views.render_to_string

    def sending(self):
        happened.append("send")
        return send(self)

    def reading(self):
        happened.append("read")
        return read(self)

    def rendering(template_name, *args, **kwargs):
        happened.append(template_name)
        return render(template_name, *args, **kwargs)

    monkeypatch.setattr(search_client.PendingSearch, "_send", sending)
    monkeypatch.setattr(search_client.PendingSearch, "json", reading)
    monkeypatch.setattr(views, "render_to_string", rendering)
    return happened


@pytest.mark.elasticsearch
def test_the_frame_renders_between_sending_the_search_and_reading_its_answer(
    directory, use_elasticsearch, es_index, events, client
):
    from search.services import search_index_rebuild

    search_index_rebuild(refresh=True)
    events.clear()

    response = client.get("/find/", {"q": "home care", "card": "1"})

    assert response.status_code == 200
    assert events == ["send", "search/results.html", "read"]
    html = response.content.decode()
    assert "\x00" not in html
    assert "Morning Call Home Care" in html
    assert "Takes the prepayment card (" in html
    assert (
        html.index("Filter results")
        < html.index("Payment and places")
        < html.index("Apply filters")
    )
    assert html.index("results-heading") < html.index("Your shortlist (0)")


def test_the_parts_stand_where_the_template_put_them(indexed, search_backend, client):
    html = client.get("/find/", {"category": "home_care", "sort": "price"}).content.decode()

    facets = html[html.index("Filter results") : html.index("Apply filters")]
    assert facets.index('name="category"') < facets.index('name="max_price"')
    assert facets.index('name="max_price"') < facets.index('name="card"')
    assert facets.index('name="vacancies"') < facets.index('name="care_group"')
    for name in ("cqc_rating", "sector", "day", "language", "accessibility"):
        assert f'name="{name}"' in facets
    results = html[html.index("govuk-grid-column-two-thirds") :]
    assert results.index("results-heading") < results.index('name="sort"')
    assert results.index('name="sort"') < results.index("Your shortlist (0)")


def test_text_a_visitor_types_is_shown_as_typed_not_as_a_part(embedded_default, client):
    typed = "\x00results\x00 " + views._STAND_IN.strip("\x00")

    response = client.get("/find/", {"q": typed})

    html = response.content.decode()
    assert html.count("results-heading") <= 1
    assert html.count('<div class="govuk-grid-column-two-thirds">') == 1
    assert views._STAND_IN not in html


def test_a_frame_without_a_part_is_a_configuration_error():
    from django.core.exceptions import ImproperlyConfigured

    parts = {name: f"<{name}>" for name in views._PARTS}
    frame = "".join(views._STAND_INS[name] for name in views._PARTS if name != "payment")

    with pytest.raises(ImproperlyConfigured, match="parts.payment"):
        views._fill(frame, parts)
    assert views._fill(frame + views._STAND_INS["payment"], parts) == (
        "<category><selects><results><payment>"
    )
