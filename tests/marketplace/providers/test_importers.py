"""Importers: ORUK feeds and CSV files arrive as drafts for moderation; every bad row is reported."""

import json
from io import StringIO
from pathlib import Path

import pytest

from django.core.management import CommandError, call_command

from marketplace.providers.models import CqcRating, Organisation, Service
from marketplace.providers.selectors import record_moderation_status

from .factories import ServiceFactory

FIXTURES = Path(__file__).parent / "fixtures"

pytestmark = pytest.mark.django_db


def run(*args):
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_csv_import_creates_drafts_waiting_for_moderation():
    out, _ = run("import_oruk", str(FIXTURES / "services.csv"))
    assert "Imported 2 new and 0 changed service(s)" in out
    bus = Service.objects.get(name="Door to door minibus")
    assert not bus.live and not Service.objects.published().exists()
    assert record_moderation_status(record=bus)["state"] == "waiting"
    assert bus.organisation.sector == "voluntary" and bus.organisation.charity_number == "1099999"
    assert bus.cost_options.get().amount_pence == 450 and bus.cost_options.get().unit == "journey"
    assert set(bus.areas.values_list("postcode_district", flat=True)) == {"HA8", "NW7", "NW9"}
    assert bus.schedules.count() == 5
    assert bus.locations.get().postcode == "HA8 7BD"
    assert bus.accepts_prepayment_card
    care = Service.objects.get(name="Personal care at home")
    assert care.category == "home_care" and care.cqc_location_id == "1-555000111"
    assert care.cost_options.get().amount_pence == 2380


def test_a_csv_with_bad_rows_imports_nothing_and_reports_each_row():
    with pytest.raises(CommandError, match="Nothing imported: 4 bad row"):
        out, err = run("import_oruk", str(FIXTURES / "services_bad.csv"))
    assert not Service.objects.exists() and not Organisation.objects.exists()


def test_bad_row_reasons_name_the_row_and_the_problem():
    err = StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_oruk", str(FIXTURES / "services_bad.csv"), stderr=err, stdout=StringIO()
        )
    report = err.getvalue()
    assert "Item 3: category “astrology” is not one we know" in report
    assert "Item 4: price “twenty” is not an amount in pounds" in report
    assert "Item 5: organisation_name is empty" in report
    assert "Item 6: closes_at must be after opens_at" in report
    assert "Item 2" not in report


def test_skip_bad_imports_the_good_rows():
    out, _ = run("import_oruk", str(FIXTURES / "services_bad.csv"), "--skip-bad")
    assert "Imported 1 new" in out
    assert list(Service.objects.values_list("name", flat=True)) == ["Lunch"]


def test_oruk_feed_imports_with_its_ids_and_reports_bad_items():
    err = StringIO()
    with pytest.raises(CommandError, match="2 bad row"):
        call_command(
            "import_oruk", str(FIXTURES / "oruk_services.json"), stderr=err, stdout=StringIO()
        )
    assert "Item 2: has no taxonomy term naming one of our service categories" in err.getvalue()
    assert "Item 3: status “closed forever” is not active" in err.getvalue()
    assert not Service.objects.exists()

    run("import_oruk", str(FIXTURES / "oruk_services.json"), "--skip-bad")
    service = Service.objects.get()
    assert str(service.oruk_id) == "0b5a5a52-2d6e-4a4e-9a43-5b0d5d6b7c01"
    assert str(service.organisation.oruk_id) == "6c0f7a8e-4a6b-4bd1-9f0a-111111111111"
    assert service.category == "befriending"
    assert list(service.care_groups.values_list("care_group", flat=True)) == ["carers"]
    assert sorted(service.schedules.values_list("weekday", flat=True)) == [1, 3]
    assert service.locations.get().postcode_district == "NW4"
    assert service.languages.get().code == "pl"
    assert service.organisation.charity_number == "1176543"
    assert not service.live


def test_our_own_api_output_round_trips_through_the_importer(client, tmp_path):
    source = ServiceFactory(name="Round trip care")
    data = client.get(f"/api/oruk/services/{source.oruk_id}").json()
    Service.objects.filter(pk=source.pk).update(name="Renamed locally")
    path = tmp_path / "one.json"
    path.write_text(json.dumps(data))
    out, _ = run("import_oruk", str(path))
    assert "0 new and 1 changed" in out
    source.refresh_from_db()
    # The change waits for moderation; the live record is untouched.
    assert source.name == "Renamed locally"
    assert source.get_latest_revision_as_object().name == "Round trip care"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"hello": 1}', "not an Open Referral UK service list"),
        ("name,description\nx,y\n", "header is missing organisation_name"),
    ],
)
def test_unreadable_files_are_refused_whole(tmp_path, content, message):
    path = tmp_path / ("file.csv" if content.startswith("name") else "file.json")
    path.write_text(content)
    with pytest.raises(CommandError, match=message):
        run("import_oruk", str(path))


def test_missing_file_is_a_clear_error():
    with pytest.raises(CommandError, match="There is no file at /nowhere.csv"):
        run("import_oruk", "/nowhere.csv")


def test_cqc_import_sets_the_latest_overall_rating_and_reports_unmatched_rows():
    service = ServiceFactory(cqc_location_id="1-555000111")
    out, err = run("import_cqc", str(FIXTURES / "cqc_ratings.csv"))
    service.refresh_from_db()
    assert service.cqc_rating == CqcRating.GOOD
    assert service.cqc_rating_date.isoformat() == "2025-09-03"
    assert (
        "Unmatched row 5: no service has CQC location id 1-999999999 (Somewhere Else Care)" in out
    )
    assert "Row 6: Publication Date “sometime” is not a date" in err
    assert "Row 7: Latest Rating “Insufficient evidence to rate” is not a CQC rating" in err
    assert "Updated 1 rating(s)" in out

    out, _ = run("import_cqc", str(FIXTURES / "cqc_ratings.csv"))
    assert "Updated 0 rating(s); 1 already up to date" in out


def test_cqc_import_refuses_a_file_without_the_regulators_columns(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("id,rating\n1,Good\n")
    with pytest.raises(
        CommandError, match="no Location ID, Location Name, Latest Rating, Publication Date"
    ):
        run("import_cqc", str(path))
