"""Realistic Stripe Issuing events, signed the way Stripe signs them.

Used by ``play_stripe_events`` (our ``stripe trigger``), the demo seeder, the
tests and the benchmark, so every one of them goes through the real webhook.
The shapes follow Stripe's API reference for ``issuing.authorization`` and
``issuing.transaction`` objects.
"""

import hashlib
import hmac
import json
import secrets
import time
from datetime import datetime

API_VERSION = "2026-10-28.endive"


def stripe_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


def signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header: ``t=<unix time>,v1=<HMAC-SHA256 of "t.payload">``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def event_payload(
    event_type: str, obj: dict, *, created: int | None = None, event_id: str | None = None
) -> dict:
    return {
        "id": event_id or stripe_id("evt"),
        "object": "event",
        "api_version": API_VERSION,
        "created": created or int(time.time()),
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }


def merchant_data(
    *, name: str, category: str, category_code: str, postal_code: str = "", network_id: str = ""
) -> dict:
    return {
        "category": category,
        "category_code": category_code,
        "city": "London",
        "country": "GB",
        "name": name,
        "network_id": network_id or f"{abs(hash(name)) % 10**15:015d}",
        "postal_code": postal_code,
        "state": None,
        "terminal_id": None,
        "url": None,
    }


def authorization_object(
    *,
    card_id: str,
    cardholder_id: str,
    amount_pence: int,
    merchant: dict,
    authorization_id: str | None = None,
    status: str = "pending",
    approved: bool = False,
    created: int | None = None,
) -> dict:
    created = created or int(time.time())
    pending = status == "pending" and not approved
    return {
        "id": authorization_id or stripe_id("iauth"),
        "object": "issuing.authorization",
        "amount": 0 if pending else amount_pence,
        "amount_details": {"atm_fee": None, "cashback_amount": None},
        "approved": approved,
        "authorization_method": "online",
        "balance_transactions": [],
        "card": {
            "id": card_id,
            "object": "issuing.card",
            "cardholder": cardholder_id,
            "currency": "gbp",
        },
        "cardholder": cardholder_id,
        "created": created,
        "currency": "gbp",
        "livemode": False,
        "merchant_amount": amount_pence,
        "merchant_currency": "gbp",
        "merchant_data": merchant,
        "metadata": {},
        "pending_request": (
            {
                "amount": amount_pence,
                "amount_details": {"atm_fee": None, "cashback_amount": None},
                "currency": "gbp",
                "is_amount_controllable": False,
                "merchant_amount": amount_pence,
                "merchant_currency": "gbp",
                "network_risk_score": None,
            }
            if pending
            else None
        ),
        "request_history": [],
        "status": status,
        "transactions": [],
        "verification_data": {
            "address_line1_check": "not_provided",
            "address_postal_code_check": "match",
            "cvc_check": "match",
            "expiry_check": "match",
        },
        "wallet": None,
    }


def transaction_object(
    *,
    card_id: str,
    cardholder_id: str,
    amount_pence: int,
    merchant: dict,
    authorization_id: str | None,
    type: str = "capture",  # noqa: A002 - Stripe's field name
    transaction_id: str | None = None,
    created: int | None = None,
) -> dict:
    """A capture (``amount`` negative: money leaves the balance) or a refund (positive)."""
    signed_amount = -amount_pence if type == "capture" else amount_pence
    return {
        "id": transaction_id or stripe_id("ipi"),
        "object": "issuing.transaction",
        "amount": signed_amount,
        "amount_details": {"atm_fee": None},
        "authorization": authorization_id,
        "balance_transaction": stripe_id("txn"),
        "card": card_id,
        "cardholder": cardholder_id,
        "created": created or int(time.time()),
        "currency": "gbp",
        "dispute": None,
        "livemode": False,
        "merchant_amount": signed_amount,
        "merchant_currency": "gbp",
        "merchant_data": merchant,
        "metadata": {},
        "type": type,
        "wallet": None,
    }


def encode(payload: dict) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def unix(moment: datetime) -> int:
    return int(moment.timestamp())
