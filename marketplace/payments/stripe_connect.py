"""Stripe Connect calls: providers' connected accounts, onboarding links and transfers.

Every call goes through ``stripe_api.client()``. These functions only talk
to Stripe and return plain values; services decide what to store.
"""

from dataclasses import dataclass

from .stripe_api import client


@dataclass(frozen=True)
class AccountState:
    account_id: str
    details_submitted: bool
    charges_enabled: bool
    payouts_enabled: bool
    transfers_active: bool
    requirements_due: list[str]


def account_state(account) -> AccountState:
    """Our view of a Stripe account object (from an API response or an ``account.updated`` event)."""
    data = account.to_dict() if hasattr(account, "to_dict") else dict(account)
    capabilities = data.get("capabilities") or {}
    requirements = data.get("requirements") or {}
    return AccountState(
        account_id=data["id"],
        details_submitted=bool(data.get("details_submitted")),
        charges_enabled=bool(data.get("charges_enabled")),
        payouts_enabled=bool(data.get("payouts_enabled")),
        transfers_active=capabilities.get("transfers") == "active",
        requirements_due=list(requirements.get("currently_due") or []),
    )


def connect_account_create(*, organisation_id: int, name: str, email: str = "") -> AccountState:
    """Create an Express connected account in the UK that can receive transfers."""
    params = {
        "type": "express",
        "country": "GB",
        "business_profile": {"name": name},
        "capabilities": {"transfers": {"requested": True}},
        "metadata": {"organisation_id": str(organisation_id)},
    }
    if email:
        params["email"] = email
    account = client().v1.accounts.create(
        params=params,
        options={"idempotency_key": f"connect-account-organisation-{organisation_id}"},
    )
    return account_state(account)


def connect_account_retrieve(*, account_id: str) -> AccountState:
    return account_state(client().v1.accounts.retrieve(account_id))


def connect_onboarding_link(*, account_id: str, refresh_url: str, return_url: str) -> str:
    """A single-use Stripe-hosted onboarding link for the provider to finish set-up."""
    link = client().v1.account_links.create(
        params={
            "account": account_id,
            "refresh_url": refresh_url,
            "return_url": return_url,
            "type": "account_onboarding",
        }
    )
    return link.url


def connect_transfer_create(
    *,
    amount_pence: int,
    destination: str,
    idempotency_key: str,
    payment_id: int,
    invoice_id: int,
    description: str,
) -> str:
    """Send money to a provider's connected account; returns the transfer id.

    The idempotency key is Stripe's Idempotency-Key header: a retried call
    with the same key returns the first transfer instead of making another.
    """
    transfer = client().v1.transfers.create(
        params={
            "amount": amount_pence,
            "currency": "gbp",
            "destination": destination,
            "transfer_group": f"invoice-{invoice_id}",
            "description": description[:350],
            "metadata": {"payment_id": str(payment_id), "invoice_id": str(invoice_id)},
        },
        options={"idempotency_key": idempotency_key},
    )
    return transfer.id
