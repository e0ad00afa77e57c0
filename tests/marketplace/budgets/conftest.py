import pytest

from marketplace.budgets.models import Card, CardScheme
from marketplace.budgets.services import budget_loads_post_due
from marketplace.budgets.stripe_events import encode, signature_header

from .factories import make_budget

WEBHOOK_SECRET = "whsec_test_secret"


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    return WEBHOOK_SECRET


@pytest.fixture
def deliver(client, webhook_secret):
    """POST an event to the webhook signed with Stripe's real algorithm."""

    def send(
        payload: dict, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None, header=None
    ):
        body = encode(payload)
        headers = {}
        if header is not False:
            headers["HTTP_STRIPE_SIGNATURE"] = header or signature_header(body, secret, timestamp)
        return client.post(
            "/webhooks/stripe/", data=body, content_type="application/json", **headers
        )

    return send


@pytest.fixture
def funded_card(db):
    """A Stripe card on a budget (open today) with one £1,000 load paid in."""
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    budget = make_budget(starts_on=today - timedelta(days=10), ends_on=today + timedelta(days=355))
    budget_loads_post_due(on=today)
    return Card.objects.create(
        budget=budget,
        scheme=CardScheme.STRIPE,
        reference="ic_test_card",
        stripe_cardholder_id="ich_test",
        last4="4242",
    )
