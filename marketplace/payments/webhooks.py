"""Stripe event handlers for marketplace payments (Connect), keyed by event type.

The one webhook view (in marketplace.budgets) routes events through this
dict merged with the card handlers.
"""

HANDLERS: dict = {}
