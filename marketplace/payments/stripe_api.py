"""The one place the platform configures stripe-python.

Every Stripe call goes through ``client()``. In tests STRIPE_API_BASE points
at Stripe's own stripe-mock server; the live API is never called from a
development machine or CI.
"""

from functools import cache

import stripe

from django.conf import settings


class StripeNotConfigured(RuntimeError):
    pass


@cache
def client() -> stripe.StripeClient:
    if not settings.STRIPE_SECRET_KEY:
        raise StripeNotConfigured("Set STRIPE_SECRET_KEY to take payments through Stripe.")
    kwargs = {}
    if settings.STRIPE_API_BASE:
        kwargs["base_addresses"] = {
            "api": settings.STRIPE_API_BASE,
            "files": settings.STRIPE_API_BASE,
        }
    return stripe.StripeClient(settings.STRIPE_SECRET_KEY, max_network_retries=2, **kwargs)
