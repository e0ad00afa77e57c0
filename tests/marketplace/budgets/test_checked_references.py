"""Checked references: references without a foreign-key constraint, proved by the database.

The ledger, card transaction and purchase tables check their references once per statement
(marketplace/budgets/checked_references.py). On PostgreSQL, whoever writes them (the
statement import, the ORM, raw SQL), a row can never name a parent that does not exist,
and a parent that is still named cannot be deleted.
"""

from datetime import date

import pytest

from django.apps import apps
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models.deletion import ProtectedError

from marketplace.budgets.models import Card, CardScheme, CardTransaction, JournalEntry
from marketplace.budgets.services import budget_loads_post_due, statement_import
from marketplace.payments.models import Purchase

from .factories import make_budget

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]

STATEMENT = """transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount
R1,REF-CARD,2025-04-02,Finchley Lunch Club,N3 1DH,5812,6.00
R2,REF-CARD,2025-04-03,Barnet Taxis,EN5 4AA,4121,-2.50
"""

# Every reference of the project's own models declared without a constraint
# (db_constraint=False): each must have its triggers, so a new one without a migration
# that installs them fails here.
REFERENCES = [
    (model._meta.app_label, model.__name__, field.name)
    for model in apps.get_models()
    if model.__module__.startswith(("marketplace.", "commissioning.", "cms.", "search."))
    for field in model._meta.concrete_fields
    if field.is_relation and not field.db_constraint
]


def test_the_tables_an_import_fills_have_checked_references():
    assert {
        ("budgets", "JournalEntry", "budget"),
        ("budgets", "Posting", "entry"),
        ("budgets", "Posting", "account"),
        ("budgets", "CardTransaction", "budget"),
        ("payments", "Purchase", "budget_holder"),
    } <= set(REFERENCES)


@pytest.fixture
def imported(db):
    """A statement imported through the real service: a row of every checked table."""
    from marketplace.payments.matching import merchant_index_clear
    from marketplace.payments.models import MerchantAlias
    from tests.factories import OrganisationFactory

    merchant_index_clear()
    club = OrganisationFactory(name="Finchley Lunch Club")
    MerchantAlias.objects.create(merchant_key="finchley lunch club", postcode="", organisation=club)
    budget = make_budget()
    budget_loads_post_due(on=date(2025, 4, 1))
    card = Card.objects.create(budget=budget, scheme=CardScheme.DEFAULT, reference="REF-CARD")
    statement_import(text=STATEMENT, scheme_name="default", filename="refs.csv")
    merchant_index_clear()
    return card


def _field(app, model_name, field_name):
    return apps.get_model(app, model_name)._meta.get_field(field_name)


def _copy_with(model, column: str, value) -> None:
    """INSERT a copy of one of ``model``'s rows with ``column`` set to ``value`` (other unique
    values changed or emptied so that only the reference can fail)."""
    table = model._meta.db_table
    columns, values = [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.column == column:
            values.append("%s")
        elif field.one_to_one:
            values.append("NULL")
        elif field.column in ("source_id", "reference", "source_reference"):
            values.append(f"{field.column} || '-copy'")
        else:
            values.append(field.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - our own names
            f"SELECT {', '.join(values)} FROM {table} WHERE id = (SELECT MAX(id) FROM {table})",
            [value],
        )


@pytest.mark.parametrize(("app", "model_name", "field_name"), REFERENCES)
def test_a_reference_to_a_missing_row_is_refused_whoever_writes_it(
    imported, app, model_name, field_name
):
    field = _field(app, model_name, field_name)
    assert field.db_constraint is False  # else this proves the constraint, not the trigger
    model = field.model
    missing = (field.related_model.objects.order_by("-pk").values_list("pk", flat=True)[0]) + 1000
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        _copy_with(model, field.column, missing)
    # The same row with a parent that exists goes in: only the reference was wrong.
    parents = field.related_model.objects.order_by("-pk")
    if field.one_to_one:  # a parent no row names yet
        parents = parents.exclude(pk__in=model.objects.values(field.column))
    existing = parents.values_list("pk", flat=True)[0]
    with transaction.atomic():
        _copy_with(model, field.column, existing)
        transaction.set_rollback(True)


def test_changing_a_card_transactions_reference_to_a_missing_row_is_refused(imported):
    transaction_row = CardTransaction.objects.filter(card=imported).first()
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        CardTransaction.objects.filter(pk=transaction_row.pk).update(card_id=imported.pk + 1000)
    with pytest.raises(IntegrityError, match="does not exist"), transaction.atomic():
        Purchase.objects.filter(source_reference__endswith="R1").update(
            budget_holder_id=imported.budget.budget_holder_id + 1000
        )


@pytest.mark.parametrize(("app", "model_name", "field_name"), REFERENCES)
def test_a_parent_still_referenced_cannot_be_deleted_with_raw_sql(
    imported, app, model_name, field_name
):
    field = _field(app, model_name, field_name)
    model, parent = field.model, field.related_model
    parent_id = (
        model.objects.exclude(**{f"{field.name}__isnull": True})
        .values_list(field.column, flat=True)
        .first()
    )
    assert parent_id is not None
    # Journal entries refuse every delete anyway (the ledger is immutable).
    expected = (
        "still referenced|cannot be changed or deleted"
        if parent is JournalEntry
        else "still referenced"
    )
    table = parent._meta.db_table
    with (
        pytest.raises(DatabaseError, match=expected),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [parent_id])  # noqa: S608
    assert parent.objects.filter(pk=parent_id).exists()


def test_the_orm_still_protects_parents(imported):
    with pytest.raises(ProtectedError):
        imported.delete()


def test_an_unreferenced_parent_can_still_be_deleted(imported):
    spare = Card.objects.create(budget=imported.budget, scheme=CardScheme.DEFAULT, reference="S")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM budgets_card WHERE id = %s", [spare.pk])
    assert not Card.objects.filter(pk=spare.pk).exists()


def test_a_provider_deleted_through_the_orm_leaves_its_purchases_unmatched(imported):
    purchase = Purchase.objects.exclude(organisation=None).get()
    purchase.organisation.delete()  # on_delete=SET_NULL: the ORM clears the reference first
    purchase.refresh_from_db()
    assert purchase.organisation_id is None


@pytest.mark.parametrize("gap", [1, 1_000_000], ids=["ids-close-together", "ids-far-apart"])
def test_one_missing_parent_among_many_rows_is_found(imported, gap):
    """Both ways of checking (a stretch of the parent's key, or each id looked up) find it."""
    from marketplace.budgets.models import Account

    entry_ids = list(JournalEntry.objects.values_list("pk", flat=True))
    missing = max(entry_ids) + gap
    account = Account.objects.filter(budget=imported.budget).first()
    rows = [(entry_id, account.pk, 1) for entry_id in entry_ids] + [(missing, account.pk, 1)]
    with (
        pytest.raises(IntegrityError, match="does not exist"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO budgets_posting (entry_id, account_id, amount_pence) "
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::bigint[])",
            [[r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]],
        )


def test_rows_naming_every_parent_of_a_stretch_go_in(imported):
    """A stretch of entry ids with no gaps is proved by counting it (no join): still accepted."""
    from marketplace.budgets.models import Account, Posting

    entry_ids = sorted(JournalEntry.objects.values_list("pk", flat=True))
    assert entry_ids == list(range(entry_ids[0], entry_ids[-1] + 1))  # no gaps
    account = Account.objects.filter(budget=imported.budget).first()
    before = Posting.objects.count()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO budgets_posting (entry_id, account_id, amount_pence) "
            "SELECT entry_id, %s, 1 FROM unnest(%s::bigint[]) AS entry_id",
            [account.pk, entry_ids],
        )
        assert Posting.objects.count() == before + len(entry_ids)
        transaction.set_rollback(True)


def test_the_check_leaves_the_sessions_planner_settings_as_they_were(imported):
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"
    statement_import(
        text=STATEMENT.replace("R1", "R3").replace("R2", "R4"),
        scheme_name="default",
        filename="more.csv",
    )
    with connection.cursor() as cursor:
        cursor.execute("SHOW enable_nestloop")
        assert cursor.fetchone()[0] == "on"
