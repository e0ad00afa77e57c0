"""Play realistic Stripe Issuing event sequences into our webhook, the way Stripe sends them.

A card payment is three events: ``issuing_authorization.request`` (we answer
approved or not), ``issuing_authorization.created`` (Stripe's record of the
outcome) and, if approved, ``issuing_transaction.created`` (the capture). A
refund is one more ``issuing_transaction.created``. ``send`` posts one signed
event and returns the HTTP status and JSON body; the command passes an HTTP
sender, the demo and tests pass one that calls the view in-process.
"""

from collections.abc import Callable
from dataclasses import dataclass

from .stripe_events import (
    authorization_object,
    encode,
    event_payload,
    merchant_data,
    signature_header,
    transaction_object,
)

Sender = Callable[[bytes, str], tuple[int, dict]]


@dataclass(frozen=True)
class Merchant:
    name: str
    category: str
    mcc: str
    postcode: str = ""

    def data(self) -> dict:
        return merchant_data(
            name=self.name,
            category=self.category,
            category_code=self.mcc,
            postal_code=self.postcode,
        )


EVERYDAY_MERCHANTS = [
    Merchant("Thames Day Trips", "tourist_attractions_and_exhibits", "7991", "SE1 7PB"),
    Merchant("Finchley Leisure Centre", "sports_clubs_fields", "7941", "N12 0GA"),
    Merchant("Barnet Taxis", "taxicabs_limousines", "4121", "EN5 4AA"),
    Merchant("Boots Pharmacy", "drug_stores_and_pharmacies", "5912", "N12 8NP"),
    Merchant("Odeon Cinema", "motion_picture_theaters", "7832", "N12 0GA"),
    Merchant("Greggs", "fast_food_restaurants", "5814", "N3 1DH"),
]
BLOCKED_MERCHANTS = [
    Merchant("Lucky Star Bets", "betting_casino_gambling", "7995", "N12 9RS"),
    Merchant("The Crown Pub", "drinking_places", "5813", "N3 2AA"),
    Merchant("Bargain Booze", "package_stores_beer_wine_and_liquor", "5921", "N11 1NR"),
]


@dataclass
class Signer:
    secret: str
    send: Callable[[bytes, str], tuple[int, dict]]

    def post(self, payload: dict) -> tuple[int, dict]:
        body = encode(payload)
        return self.send(body, signature_header(body, self.secret))


def play_payment(
    signer: Signer,
    *,
    card_id: str,
    cardholder_id: str,
    amount_pence: int,
    merchant: Merchant,
    created: int | None = None,
    refund_pence: int = 0,
) -> bool:
    """One card payment through the webhook; returns whether we approved it."""
    data = merchant.data()
    request = authorization_object(
        card_id=card_id,
        cardholder_id=cardholder_id,
        amount_pence=amount_pence,
        merchant=data,
        created=created,
    )
    status, body = signer.post(
        event_payload("issuing_authorization.request", request, created=created)
    )
    approved = status == 200 and bool(body.get("approved"))
    outcome = dict(
        request,
        approved=approved,
        amount=amount_pence if approved else 0,
        status="pending" if approved else "closed",
        pending_request=None,
    )
    signer.post(event_payload("issuing_authorization.created", outcome, created=created))
    if not approved:
        return False
    capture = transaction_object(
        card_id=card_id,
        cardholder_id=cardholder_id,
        amount_pence=amount_pence,
        merchant=data,
        authorization_id=request["id"],
        created=created,
    )
    signer.post(event_payload("issuing_transaction.created", capture, created=created))
    if refund_pence:
        refund = transaction_object(
            card_id=card_id,
            cardholder_id=cardholder_id,
            amount_pence=refund_pence,
            merchant=data,
            authorization_id=request["id"],
            type="refund",
            created=created,
        )
        signer.post(event_payload("issuing_transaction.created", refund, created=created))
    return True
