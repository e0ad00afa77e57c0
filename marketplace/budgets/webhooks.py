"""The one Stripe webhook: POST /webhooks/stripe/.

It verifies the signature with Stripe's own algorithm, stores each event id
once together with everything the event changed (one database transaction,
so a crash part-way leaves nothing and Stripe's redelivery is processed
once), and routes on ``event.type`` through the card handlers here merged
with ``marketplace.payments.webhooks.HANDLERS``.
"""

import json
import logging

import stripe

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.payments.webhooks import HANDLERS as PAYMENT_HANDLERS

from .models import StripeEvent
from .services.cards import (
    card_authorization_decide,
    card_authorization_update,
    card_transaction_record,
)
from .stripe_events import API_VERSION

logger = logging.getLogger(__name__)

# Stripe's default: a signature older than five minutes is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300


def _object(event: dict) -> dict:
    return event["data"]["object"]


def authorization_request(event: dict) -> dict:
    """Answer a real-time authorisation: Stripe reads ``approved`` from our response body."""
    decision = card_authorization_decide(authorization=_object(event))
    return {"approved": decision.approved}


def authorization_changed(event: dict) -> None:
    card_authorization_update(authorization=_object(event))


def transaction_created(event: dict) -> None:
    card_transaction_record(transaction_obj=_object(event))


CARD_HANDLERS = {
    "issuing_authorization.request": authorization_request,
    "issuing_authorization.created": authorization_changed,
    "issuing_authorization.updated": authorization_changed,
    "issuing_transaction.created": transaction_created,
}


def handlers() -> dict:
    return {**PAYMENT_HANDLERS, **CARD_HANDLERS}


def _bad_request(request: HttpRequest, reason: str) -> HttpResponse:
    logger.warning(
        "Rejected Stripe webhook from %s: %s", request.META.get("REMOTE_ADDR", "unknown"), reason
    )
    return HttpResponse(reason, status=400, content_type="text/plain")


def _answer(body: dict | None) -> HttpResponse:
    if body is None:
        return JsonResponse({"received": True})
    response = JsonResponse(body)
    # Stripe's synchronous authorisation answers carry the API version they follow.
    response["Stripe-Version"] = API_VERSION
    return response


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    secret = settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        logger.error("A Stripe webhook arrived but STRIPE_WEBHOOK_SECRET is not set.")
        return HttpResponse("Webhooks are not configured.", status=503, content_type="text/plain")
    header = request.headers.get("Stripe-Signature")
    if not header:
        return _bad_request(request, "The request is not signed.")
    payload = request.body
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), header, secret, SIGNATURE_TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as error:
        return _bad_request(request, f"The signature does not match: {error.user_message or error}")
    except UnicodeDecodeError:
        return _bad_request(request, "The body is not text.")
    try:
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
        event["data"]["object"]  # noqa: B018 - every event carries its object
    except (ValueError, KeyError, TypeError):
        return _bad_request(request, "The body is not a Stripe event.")

    handler = handlers().get(event_type)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    stored = StripeEvent.objects.create(
                        event_id=event_id, type=event_type, payload=event
                    )
            except IntegrityError:
                previous = StripeEvent.objects.filter(event_id=event_id).first()
                logger.info("Stripe event %s received again; nothing changed.", event_id)
                return _answer(previous.response if previous else None)
            body = handler(event) if handler is not None else None
            if body is not None:
                stored.response = body
                stored.save(update_fields=["response"])
    except Exception:
        # Nothing was kept: Stripe will deliver the event again.
        logger.exception("Stripe event %s (%s) failed and was rolled back.", event_id, event_type)
        return HttpResponse(
            "The event could not be processed.", status=500, content_type="text/plain"
        )
    return _answer(body)
