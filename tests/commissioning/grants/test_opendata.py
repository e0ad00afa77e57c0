import csv
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from django.core.management import call_command

from commissioning.grants import services
from commissioning.grants.models import PaymentMethod

pytestmark = pytest.mark.django_db

REFERENCE = Path("/work/shared/reference/360giving-1.4.3")


def validator() -> Draft202012Validator:
    package = json.loads((REFERENCE / "360-giving-package-schema.json").read_text())
    grant = json.loads((REFERENCE / "360-giving-schema.json").read_text())
    # The files declare $schema as http://…/draft/2020-12/schema, which is 2020-12.
    resource = DRAFT202012.create_resource(grant)
    # The 1.4.3 package schema refers to the grant schema by its 1.4.2 address.
    registry = Registry().with_resources(
        [(grant["$id"], resource), (grant["$id"].replace("1.4.3", "1.4.2"), resource)]
    )
    return Draft202012Validator(
        package, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def codes(name: str) -> set[str]:
    with open(REFERENCE / "codelists" / name, newline="") as handle:
        return {row["Code"] for row in csv.DictReader(handle)}


@pytest.fixture
def published(award, officer, settings):
    settings.GRANTNAV_PREFIX = "scc"
    organisation = award.application.organisation
    organisation.charity_number = "1123456"
    organisation.save()
    services.agreement_accept(award=award, user=None, full_name="Jo Bloggs", confirmed=True)
    services.tranche_pay(
        tranche=award.tranches.first(),
        method=PaymentMethod.BANK,
        reference="BACS1",
        paid_by=officer,
    )
    return award


def test_published_grants_validate_against_the_360giving_schema(client, published):
    response = client.get("/api/grants/360giving.json")
    assert response.status_code == 200
    package = response.json()
    errors = sorted(validator().iter_errors(package), key=str)
    assert errors == []
    grant = package["grants"][0]
    assert grant["id"] == f"360G-scc-{published.pk}"
    assert grant["currency"] == "GBP"
    assert grant["amountAwarded"] == 15000
    assert grant["amountDisbursed"] == 7500
    assert grant["recipientOrganization"][0]["id"] == "GB-CHC-1123456"
    assert grant["fundingOrganization"][0]["id"].startswith("GB-")
    assert grant["currency"] in codes("currency.csv")
    assert grant["locationScope"] in codes("locationScope.csv")
    assert grant["beneficiaryLocation"][0]["geoCodeType"] in codes("geoCodeType.csv")


def test_awards_are_not_published_until_the_agreement_is_accepted(client, award):
    assert client.get("/api/grants/360giving.json").json()["grants"] == []


def test_recipient_ids_fall_back_to_company_then_local(published):
    from commissioning.grants.opendata import organisation_id

    organisation = published.application.organisation
    organisation.charity_number = ""
    organisation.company_number = "09876543"
    assert organisation_id(organisation) == "GB-COH-09876543"
    organisation.company_number = ""
    assert organisation_id(organisation) == f"GB-SCC-scc-{organisation.pk}"


def test_export_command_writes_the_same_package(published, tmp_path):
    target = tmp_path / "grants.json"
    call_command("export_360giving", output=str(target))
    package = json.loads(target.read_text())
    assert [g["id"] for g in package["grants"]] == [f"360G-scc-{published.pk}"]
    assert list(validator().iter_errors(package)) == []
