import io
from datetime import date

import pytest
from openpyxl import load_workbook

from django.contrib.auth.models import Permission

from commissioning.demand.models import MarketPositionCommentary, MarketPositionSection
from marketplace.accounts.roles import Role
from marketplace.providers.taxonomy import ServiceCategory

from .factories import buy, people, provider

pytestmark = pytest.mark.django_db

PERIOD = {"from": "2026-03", "to": "2026-03"}


@pytest.fixture
def market():
    big, small = provider("Big Care Ltd"), provider("Small Care CIC")
    for person in people(12, postcode="N2 8AA"):
        buy(holder=person, organisation=big, amount_pence=3000, occurred_on=date(2026, 3, 4))
    for person in people(10, postcode="N3 2SB"):
        buy(holder=person, organisation=big, amount_pence=2000, occurred_on=date(2026, 3, 4))
    for person in people(3, postcode="N12 0AA"):
        buy(holder=person, organisation=small, amount_pence=9900, occurred_on=date(2026, 3, 4))
    for person in people(9, postcode="N2 8AA"):
        buy(
            holder=person,
            organisation=big,
            category=ServiceCategory.TRANSPORT,
            amount_pence=1500,
            occurred_on=date(2026, 3, 8),
        )
    return big, small


def analyst(client_for):
    client, user = client_for(Role.COMMISSIONER)
    user.user_permissions.add(Permission.objects.get(codename="view_unrounded_figures"))
    return client


def test_only_commissioners_open_the_dashboard(client_for):
    client, _ = client_for(Role.BUDGET_HOLDER)
    assert client.get("/commissioning/").status_code == 403
    client, _ = client_for(Role.PROVIDER_STAFF)
    assert client.get("/commissioning/").status_code == 403
    anonymous, _ = client_for(None)
    assert anonymous.get("/commissioning/").status_code == 302


def test_commissioner_without_analyst_permission_sees_withheld_figures(client_for, market):
    client, _ = client_for(Role.COMMISSIONER)
    response = client.get("/commissioning/", {**PERIOD, "by": "locality"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Spend by postcode district" in html
    assert "[c]" in html
    assert "£297" not in html  # N12's exact spend (3 x £99) never shows


def test_analyst_sees_exact_figures_flagged_when_small(client_for, market):
    client = analyst(client_for)
    html = client.get("/commissioning/", {**PERIOD, "by": "locality"}).content.decode()
    assert "£297" in html
    assert "Fewer than 8 people" in html
    # Big Care takes all of transport in N3: a market concentration alert.
    assert "Big Care Ltd takes 100% of spend on Transport, N2" in html


def test_drill_down_link_filters_to_the_row(client_for, market):
    client = analyst(client_for)
    html = client.get("/commissioning/", {**PERIOD, "by": "category"}).content.decode()
    assert "category=transport" in html and "by=locality" in html
    response = client.get("/commissioning/", {**PERIOD, "category": "transport", "by": "locality"})
    assert "£135" in response.content.decode()  # 9 x £15 in N2


def test_bad_month_shows_an_error_not_a_crash(client_for):
    client, _ = client_for(Role.COMMISSIONER)
    response = client.get("/commissioning/", {"from": "March"})
    assert response.status_code == 200
    assert "must be a month written as YYYY-MM" in response.content.decode()


def test_csv_export_is_always_suppressed_even_for_analysts(client_for, market):
    client = analyst(client_for)
    response = client.get("/commissioning/export/by-locality.csv", PERIOD)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="by-locality-2026-03')
    text = response.content.decode()
    lines = {line.split(",")[0]: line for line in text.splitlines()}
    assert lines["N12"].endswith("[c],[c],[c],,")
    assert "297" not in text
    assert lines["N2"].startswith("N2,500.00,20,20")
    assert lines["N3"].endswith("[c],[c],[c],,")  # secondary suppression


def test_xlsx_export_opens_with_the_same_figures(client_for, market):
    client, _ = client_for(Role.COMMISSIONER)
    response = client.get("/commissioning/export/by-category.xlsx", PERIOD)
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = {row[0]: row for row in sheet.iter_rows(min_row=3, values_only=True) if row[0]}
    assert rows["Transport"][2] == 10  # 9 purchases, rounded to 5
    assert rows["Home care"][1] == 360  # N12's 3 people left out


def test_market_position_statement_html_and_pdf(client_for, market):
    MarketPositionCommentary.objects.create(
        section=MarketPositionSection.GAPS, body="<p>We want more transport in the north.</p>"
    )
    client, _ = client_for(Role.COMMISSIONER)
    html = client.get("/commissioning/market-position-statement/", PERIOD).content.decode()
    assert "We want more transport in the north." in html
    assert "Market concentration" in html
    assert "297" not in html
    pdf = client.get("/commissioning/market-position-statement.pdf", PERIOD)
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_api_returns_published_json_for_commissioners(client_for, market):
    client, _ = client_for(Role.COMMISSIONER)
    response = client.get("/api/commissioning/demand", {"group_by": "category,locality", **PERIOD})
    assert response.status_code == 200
    body = response.json()
    assert body["disclosure"] == "published"
    rows = {(r["category"], r["locality"]): r for r in body["rows"]}
    assert rows[("home_care", "N12")]["holders"] is None
    assert rows[("home_care", "N2")]["holders"] == 10
    assert rows[("transport", "N2")]["spend_pence"] == 14_000


def test_api_gives_analysts_exact_figures(client_for, market):
    client = analyst(client_for)
    body = client.get("/api/commissioning/demand", {"group_by": "locality", **PERIOD}).json()
    assert body["disclosure"] == "unrounded"
    assert {r["locality"]: r["holders"] for r in body["rows"]} == {"N12": 3, "N2": 21, "N3": 10}


def test_api_refuses_others_and_explains_bad_parameters(client_for):
    client, _ = client_for(Role.PROVIDER_STAFF)
    assert client.get("/api/commissioning/demand").status_code == 403
    anonymous, _ = client_for(None)
    assert anonymous.get("/api/commissioning/demand").status_code == 403
    client, _ = client_for(Role.COMMISSIONER)
    response = client.get("/api/commissioning/demand", {"group_by": "colour"})
    assert response.status_code == 400
    assert "not a dimension" in response.json()["error"]
    response = client.get("/api/commissioning/demand", {"group_by": "locality,care_group"})
    assert response.status_code == 400
    assert "at most one of" in response.json()["error"]
    response = client.get("/api/commissioning/demand", {"from": "2026-13"})
    assert response.status_code == 400
