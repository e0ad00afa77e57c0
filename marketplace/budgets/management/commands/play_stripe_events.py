import json
import random
import urllib.error
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from marketplace.budgets.event_player import (
    BLOCKED_MERCHANTS,
    EVERYDAY_MERCHANTS,
    Signer,
    play_payment,
)
from marketplace.budgets.models import Card, CardScheme, CardStatus


def http_sender(url: str):
    def send(body: bytes, signature: str) -> tuple[int, dict]:
        request = urllib.request.Request(  # noqa: S310 - a URL the operator gives
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as error:
            return error.code, {}

    return send


class Command(BaseCommand):
    help = (
        "Play realistic, signed Stripe Issuing events (authorisation request, created, capture, "
        "refund) into the webhook, like `stripe trigger`."
    )

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000/webhooks/stripe/")
        parser.add_argument(
            "--card", help="Stripe card id (ic_...); default: every active Stripe card"
        )
        parser.add_argument("--payments", type=int, default=3, help="Everyday payments per card")
        parser.add_argument(
            "--declines", type=int, default=1, help="Blocked-shop attempts per card"
        )
        parser.add_argument(
            "--refunds", type=int, default=1, help="Payments that are partly refunded"
        )
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, url, card, payments, declines, refunds, seed, **options):
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise CommandError("Set STRIPE_WEBHOOK_SECRET: events are signed with it.")
        cards = Card.objects.filter(scheme=CardScheme.STRIPE, status=CardStatus.ACTIVE)
        if card:
            cards = cards.filter(reference=card)
        if not cards.exists():
            raise CommandError("There is no active Stripe card to play events for.")
        rng = random.Random(seed)
        signer = Signer(settings.STRIPE_WEBHOOK_SECRET, http_sender(url))
        approved = declined = 0
        for each in cards:
            plan = [(rng.choice(EVERYDAY_MERCHANTS), 0) for _ in range(payments)]
            plan += [(rng.choice(EVERYDAY_MERCHANTS), 1) for _ in range(refunds)]
            plan += [(rng.choice(BLOCKED_MERCHANTS), 0) for _ in range(declines)]
            for merchant, refund in plan:
                amount = rng.randint(3, 60) * 100 + rng.choice([0, 50, 99])
                ok = play_payment(
                    signer,
                    card_id=each.reference,
                    cardholder_id=each.stripe_cardholder_id,
                    amount_pence=amount,
                    merchant=merchant,
                    refund_pence=amount // 2 if refund else 0,
                )
                approved += ok
                declined += not ok
        self.stdout.write(
            self.style.SUCCESS(f"Played {approved} approved and {declined} declined payment(s).")
        )
