"""The one Stripe webhook: POST /webhooks/stripe/.

It verifies the signature with Stripe's own algorithm, stores each event id
once together with everything the event changed (one database transaction,
so a crash part-way leaves nothing and Stripe's redelivery is processed
once), and routes on ``event.type`` through the card handlers here merged
with ``marketplace.payments.webhooks.HANDLERS``.

``issuing_authorization.request`` is answered in Stripe's direct webhook
response, so it runs against a deadline (``card_decision_deadline``): a slow
or locked database makes the decision a recorded decline, never a late answer.
"""

import json
import logging

import stripe

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from marketplace.payments.webhooks import HANDLERS as PAYMENT_HANDLERS

from .models import StripeEvent
from .services.cards import (
    DecisionTimeout,
    card_authorization_decide,
    card_authorization_decline_undecided,
    card_authorization_update,
    card_decision_deadline,
    card_transaction_record,
)
from .stripe_events import API_VERSION

logger = logging.getLogger(__name__)

# Stripe's default: a signature older than five minutes is a replay.
SIGNATURE_TOLERANCE_SECONDS = 300

AUTHORIZATION_REQUEST = "issuing_authorization.request"


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
    AUTHORIZATION_REQUEST: authorization_request,
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


def _json_param() -> str:
    # PostgreSQL takes the text as jsonb; SQLite keeps JSON as text.
    return "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"


def _event_store(*, event_id: str, event_type: str, payload: str) -> int | None:
    """Keep the event once: its row id, or None when the id was stored before.

    One statement, no savepoint: the unique event id decides, and a
    concurrent delivery of the same id waits here until the first commits.
    The body is stored as Stripe sent it (already checked to be JSON).
    """
    table = connection.ops.quote_name(StripeEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO {table} ("event_id", "type", "payload", "received_at") '  # noqa: S608 - our own table name
            f"VALUES (%s, %s, {_json_param()}, %s) "
            'ON CONFLICT ("event_id") DO NOTHING RETURNING "id"',
            [event_id, event_type, payload, timezone.now()],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _response_store(stored_id: int, body: dict) -> None:
    table = connection.ops.quote_name(StripeEvent._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'UPDATE {table} SET "response" = {_json_param()} WHERE "id" = %s',  # noqa: S608 - our own table name
            [json.dumps(body), stored_id],
        )


def _process(
    event: dict, *, event_id: str, event_type: str, payload: str, deadline=None
) -> HttpResponse:
    handler = handlers().get(event_type)
    with transaction.atomic():
        if deadline is not None:
            deadline.limit_statements()
        stored_id = _event_store(event_id=event_id, event_type=event_type, payload=payload)
        if stored_id is None:
            logger.info("Stripe event %s received again; nothing changed.", event_id)
            return _answer(_previous_response(event_id))
        body = handler(event) if handler is not None else None
        if body is not None:
            _response_store(stored_id, body)
    return _answer(body)


def _previous_response(event_id: str) -> dict | None:
    return StripeEvent.objects.filter(event_id=event_id).values_list("response", flat=True).first()


def _decide_in_time(event: dict, *, event_id: str, payload: str) -> HttpResponse:
    """An authorisation request within the deadline, else a recorded decline, never a late answer.

    Any failure declines: an error answer would leave the decision to Stripe's fallback.
    """
    try:
        with card_decision_deadline() as deadline:
            return _process(
                event,
                event_id=event_id,
                event_type=AUTHORIZATION_REQUEST,
                payload=payload,
                deadline=deadline,
            )
    except DecisionTimeout as error:
        logger.error("Authorisation event %s: %s; declining it.", event_id, error)
    except DatabaseError as error:
        logger.error(
            "Authorisation event %s: the database failed (%s); declining it.", event_id, error
        )
    except Exception:
        logger.exception("Authorisation event %s could not be decided; declining it.", event_id)
    body = {"approved": False}
    try:
        with card_decision_deadline(fallback=True) as deadline, transaction.atomic():
            deadline.limit_statements()
            if _event_store(event_id=event_id, event_type=AUTHORIZATION_REQUEST, payload=payload):
                decision = card_authorization_decline_undecided(authorization=_object(event))
                body = {"approved": decision.approved}
                StripeEvent.objects.filter(event_id=event_id).update(response=body)
            else:
                # Another delivery of this event was decided meanwhile: give its answer.
                body = _previous_response(event_id) or body
    except Exception:
        logger.exception("Authorisation event %s: the decline could not be recorded.", event_id)
    return _answer(body)


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
    try:
        payload = request.body.decode("utf-8")
    except UnicodeDecodeError:
        return _bad_request(request, "The body is not text.")
    try:
        # Stripe's own check (HMAC-SHA256, constant-time compare, tolerance);
        # the event is then read with json, not built into a StripeObject.
        stripe.WebhookSignature.verify_header(payload, header, secret, SIGNATURE_TOLERANCE_SECONDS)
    except stripe.SignatureVerificationError as error:
        return _bad_request(request, f"The signature does not match: {error.user_message or error}")
    try:
        event = json.loads(payload)
        event_id, event_type = event["id"], event["type"]
        event["data"]["object"]  # noqa: B018 - every event carries its object
    except (ValueError, KeyError, TypeError):
        return _bad_request(request, "The body is not a Stripe event.")

    if event_type == AUTHORIZATION_REQUEST:
        return _decide_in_time(event, event_id=event_id, payload=payload)
    try:
        return _process(event, event_id=event_id, event_type=event_type, payload=payload)
    except Exception:
        # Nothing was kept: Stripe will deliver the event again.
        logger.exception("Stripe event %s (%s) failed and was rolled back.", event_id, event_type)
        return HttpResponse(
            "The event could not be processed.", status=500, content_type="text/plain"
        )
