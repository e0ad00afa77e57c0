"""Paying a provider's invoice from a budget: confirmation, approval, idempotency, Stripe Connect."""

import pytest

from marketplace.accounts.roles import Role
from marketplace.budgets.models import AccountKind, EntryKind, JournalEntry
from marketplace.budgets.stripe_events import encode, event_payload, signature_header
from marketplace.payments.models import (
    Channel,
    ConnectedAccount,
    InvoiceStatus,
    Payment,
    PaymentStatus,
    Purchase,
)
from marketplace.payments.services import PaymentError, payment_create
from marketplace.providers.taxonomy import ServiceCategory
from tests.conftest import sign_in
from tests.factories import DelegationFactory, MembershipFactory, OrganisationFactory

from .conftest import WEBHOOK_SECRET

pytestmark = [pytest.mark.stripe_mock, pytest.mark.django_db]


def funds(holder) -> int:
    budget = holder.personal_budgets.get()
    return budget.accounts.get(kind=AccountKind.HOLDER_FUNDS).balance_pence


def deliver(client, event_type: str, obj: dict, event_id: str | None = None):
    body = encode(event_payload(event_type, obj, event_id=event_id))
    return client.post(
        "/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(body, WEBHOOK_SECRET),
    )


def test_provider_onboarding_creates_a_connected_account_and_sends_them_to_stripe(
    client, stripe_settings
):
    organisation = OrganisationFactory(name="Finchley Lunch Club")
    staff = MembershipFactory(organisation=organisation).user
    sign_in(client, staff)

    response = client.post(f"/provider/payments/{organisation.pk}/")

    account = ConnectedAccount.objects.get(organisation=organisation)
    assert account.stripe_account_id.startswith("acct_")
    assert response.status_code == 302
    assert response["Location"].startswith("https://")
    page = client.get(f"/provider/payments/{organisation.pk}/")
    assert account.stripe_account_id in page.content.decode()


def test_account_updated_event_marks_the_provider_ready(client, provider):
    organisation, _ = provider
    account = organisation.connected_account
    account.details_submitted = False
    account.save()

    response = deliver(
        client,
        "account.updated",
        {
            "id": account.stripe_account_id,
            "object": "account",
            "details_submitted": True,
            "charges_enabled": True,
            "payouts_enabled": True,
            "capabilities": {"transfers": "active"},
            "requirements": {"currently_due": []},
        },
    )

    assert response.status_code == 200
    account.refresh_from_db()
    assert account.ready and account.payouts_enabled


def test_proxy_pays_an_invoice_after_checking_it(
    client, proxy, funded_holder, make_invoice, django_capture_on_commit_callbacks
):
    invoice = make_invoice(amount_pence=12_000)
    sign_in(client, proxy)

    check = client.get(f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/")
    assert check.status_code == 200
    page = check.content.decode()
    assert "Check before you pay" in page and "£120.00" in page and "Bright Care Home Care" in page
    key = check.context["form"].initial["idempotency_key"]

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/", {"idempotency_key": key}
        )

    payment = Payment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/budgets/{funded_holder.pk}/payments/{payment.pk}/"
    assert payment.status == PaymentStatus.PAID
    assert payment.stripe_transfer_id.startswith("tr_")
    assert funds(funded_holder) == 100_000 - 12_000
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    purchase = Purchase.objects.get(channel=Channel.MARKETPLACE)
    assert (purchase.organisation, purchase.category, purchase.amount_pence) == (
        invoice.organisation,
        ServiceCategory.HOME_CARE,
        12_000,
    )
    done = client.get(response["Location"]).content.decode()
    assert "Payment made" in done


def test_pressing_pay_twice_pays_once(
    client, proxy, funded_holder, make_invoice, django_capture_on_commit_callbacks
):
    invoice = make_invoice(amount_pence=12_000)
    sign_in(client, proxy)
    url = f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/"

    with django_capture_on_commit_callbacks(execute=True):
        first = client.post(url, {"idempotency_key": "a" * 32})
    with django_capture_on_commit_callbacks(execute=True):
        second = client.post(url, {"idempotency_key": "a" * 32})
    with django_capture_on_commit_callbacks(execute=True):
        # A second tab with its own form: still the same invoice, still one payment.
        third = client.post(url, {"idempotency_key": "b" * 32})

    assert first["Location"] == second["Location"] == third["Location"]
    assert Payment.objects.count() == 1
    assert Payment.objects.exclude(stripe_transfer_id=None).count() == 1
    assert JournalEntry.objects.filter(kind=EntryKind.MARKETPLACE_PAYMENT).count() == 1
    assert Purchase.objects.filter(channel=Channel.MARKETPLACE).count() == 1
    assert funds(funded_holder) == 100_000 - 12_000


def test_a_retried_request_with_the_same_key_returns_the_first_payment(proxy, make_invoice):
    invoice = make_invoice()
    first, created = payment_create(invoice=invoice, paid_by=proxy, idempotency_key="retry-key")
    again, created_again = payment_create(
        invoice=invoice, paid_by=proxy, idempotency_key="retry-key"
    )
    assert created and not created_again and first.pk == again.pk


def test_a_payment_above_the_plan_threshold_waits_for_a_monitoring_officer(
    client, client_for, proxy, funded_holder, make_invoice, django_capture_on_commit_callbacks
):
    invoice = make_invoice(amount_pence=60_000)  # above the plan's £500
    sign_in(client, proxy)
    check = client.get(f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/").content.decode()
    assert "The council must approve this payment first" in check

    client.post(f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/", {"idempotency_key": "k" * 20})
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.AWAITING_APPROVAL
    assert funds(funded_holder) == 100_000
    assert not JournalEntry.objects.filter(kind=EntryKind.MARKETPLACE_PAYMENT).exists()

    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    queue = officer_client.get("/monitoring/approvals/").content.decode()
    assert "BAR-100002" in queue and "more than the £500.00" in queue
    with django_capture_on_commit_callbacks(execute=True):
        officer_client.post(f"/monitoring/approvals/{payment.pk}/", {"decision": "approve"})

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and payment.stripe_transfer_id
    assert funds(funded_holder) == 100_000 - 60_000


def test_a_category_outside_the_plan_needs_approval_and_a_decline_pays_nothing(
    client_for, proxy, make_invoice
):
    invoice = make_invoice(amount_pence=3_000, category=ServiceCategory.TRANSPORT)
    payment, _ = payment_create(invoice=invoice, paid_by=proxy, idempotency_key="transport")
    assert payment.status == PaymentStatus.AWAITING_APPROVAL
    assert "Transport is not in the support plan" in payment.approval_reason

    officer_client, _ = client_for(Role.MONITORING_OFFICER)
    missing_reason = officer_client.post(
        f"/monitoring/approvals/{payment.pk}/", {"decision": "decline"}
    )
    assert "Enter the reason" in missing_reason.content.decode()
    officer_client.post(
        f"/monitoring/approvals/{payment.pk}/",
        {"decision": "decline", "note": "Use the council's transport scheme."},
    )
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.status == PaymentStatus.DECLINED and invoice.status == InvoiceStatus.DECLINED
    assert not JournalEntry.objects.filter(kind=EntryKind.MARKETPLACE_PAYMENT).exists()


def test_not_enough_money_is_explained_and_nothing_is_paid(proxy, make_invoice):
    invoice = make_invoice(amount_pence=40_000)
    payment_create(invoice=invoice, paid_by=proxy, idempotency_key="big-1")
    second = make_invoice(amount_pence=45_000)
    payment_create(invoice=second, paid_by=proxy, idempotency_key="big-2")
    third = make_invoice(amount_pence=30_000)
    with pytest.raises(PaymentError, match="not enough money"):
        payment_create(invoice=third, paid_by=proxy, idempotency_key="big-3")
    assert Payment.objects.count() == 2


def test_a_reversed_transfer_puts_the_money_back_once(
    client, proxy, funded_holder, make_invoice, django_capture_on_commit_callbacks
):
    invoice = make_invoice(amount_pence=12_000)
    with django_capture_on_commit_callbacks(execute=True):
        payment, _ = payment_create(invoice=invoice, paid_by=proxy, idempotency_key="rev")
    payment.refresh_from_db()
    transfer = {
        "id": payment.stripe_transfer_id,
        "object": "transfer",
        "amount": 12_000,
        "metadata": {},
    }

    assert deliver(client, "transfer.reversed", transfer, event_id="evt_rev_1").status_code == 200
    assert deliver(client, "transfer.reversed", transfer, event_id="evt_rev_1").status_code == 200
    assert deliver(client, "transfer.reversed", transfer, event_id="evt_rev_2").status_code == 200

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REVERSED
    assert funds(funded_holder) == 100_000
    assert JournalEntry.objects.filter(kind=EntryKind.REVERSAL).count() == 1
    assert (
        sum(
            Purchase.objects.filter(channel=Channel.MARKETPLACE).values_list(
                "amount_pence", flat=True
            )
        )
        == 0
    )


def test_transfer_created_event_confirms_a_payment_whose_response_was_lost(
    client, proxy, make_invoice
):
    invoice = make_invoice()
    payment, _ = payment_create(
        invoice=invoice, paid_by=proxy, idempotency_key="lost"
    )  # transfer not sent
    assert payment.status == PaymentStatus.SENDING
    deliver(
        client,
        "transfer.created",
        {"id": "tr_from_event", "object": "transfer", "metadata": {"payment_id": str(payment.pk)}},
    )
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID and payment.stripe_transfer_id == "tr_from_event"


# --- Who may do what -----------------------------------------------------------------------


def test_a_proxy_without_may_pay_cannot_pay(client, funded_holder, make_invoice):
    viewer = DelegationFactory(budget_holder=funded_holder, may_pay=False).proxy
    invoice = make_invoice()
    sign_in(client, viewer)

    assert client.get(f"/budgets/{funded_holder.pk}/invoices/").status_code == 200
    assert client.get(f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/").status_code == 404
    assert (
        client.post(
            f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/", {"idempotency_key": "x" * 10}
        ).status_code
        == 404
    )
    assert not Payment.objects.exists()


def test_someone_elses_proxy_cannot_see_or_pay_the_invoice(
    client, client_for, funded_holder, make_invoice
):
    invoice = make_invoice()
    other_client, _ = client_for(Role.PROXY)
    assert other_client.get(f"/budgets/{funded_holder.pk}/invoices/").status_code == 404
    assert other_client.get(f"/budgets/{funded_holder.pk}/pay/{invoice.pk}/").status_code == 404


def test_remittances_show_a_provider_only_its_own_payments_without_full_names(
    client, client_for, proxy, provider, make_invoice, django_capture_on_commit_callbacks
):
    organisation, staff = provider
    with django_capture_on_commit_callbacks(execute=True):
        payment, _ = payment_create(invoice=make_invoice(), paid_by=proxy, idempotency_key="remit")
    payment.refresh_from_db()

    sign_in(client, staff)
    page = client.get("/provider/remittances/").content.decode()
    assert payment.stripe_transfer_id in page and "BAR-100002" in page and "£120.00" in page
    assert "Kamala" not in page

    other_client, _ = client_for(Role.PROVIDER_STAFF)
    other = other_client.get("/provider/remittances/").content.decode()
    assert payment.stripe_transfer_id not in other and "BAR-100002" not in other
    assert other_client.get("/provider/invoices/").content.decode().count("INV-") == 0
    assert other_client.post(f"/provider/invoices/{payment.invoice_id}/cancel/").status_code == 404


def test_only_provider_staff_open_the_provider_portal_and_only_officers_approve(client_for):
    for role in (Role.BUDGET_HOLDER, Role.COMMISSIONER):
        role_client, _ = client_for(role)
        assert role_client.get("/provider/invoices/").status_code == 403
    for role in (Role.PROVIDER_STAFF, Role.PROXY, Role.COMMISSIONER):
        role_client, _ = client_for(role)
        assert role_client.get("/monitoring/approvals/").status_code == 403


def test_provider_raises_an_invoice_for_a_person_found_by_reference_and_postcode(
    client, provider, funded_holder
):
    organisation, staff = provider
    sign_in(client, staff)
    form = {
        "organisation": organisation.pk,
        "kind": "invoice",
        "council_reference": "bar-100002",
        "postcode": "N32SB",
        "provider_reference": "INV-77",
        "description": "Lunch club, March",
        "category": ServiceCategory.MEALS,
        "amount_pence": "£24.00",
        "due_on_day": "1",
        "due_on_month": "1",
        "due_on_year": "2099",
    }
    wrong = client.post("/provider/invoices/new/", {**form, "postcode": "N3 9ZZ"})
    assert "could not find a person" in wrong.content.decode()

    response = client.post("/provider/invoices/new/", form)
    assert response.status_code == 302
    invoice = funded_holder.invoices.get()
    assert (invoice.amount_pence, invoice.status) == (2_400, InvoiceStatus.UNPAID)


def test_a_failed_payout_to_the_providers_bank_is_shown_on_their_payments_page(client, provider):
    organisation, staff = provider
    account_id = organisation.connected_account.stripe_account_id
    payload = event_payload(
        "payout.failed",
        {
            "id": "po_1",
            "object": "payout",
            "arrival_date": 1_900_000_000,
            "failure_message": "The bank account is closed.",
        },
    )
    payload["account"] = account_id
    body = encode(payload)
    response = client.post(
        "/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature_header(body, WEBHOOK_SECRET),
    )
    assert response.status_code == 200
    sign_in(client, staff)
    page = client.get(f"/provider/payments/{organisation.pk}/").content.decode()
    assert "Failed" in page and "The bank account is closed." in page
