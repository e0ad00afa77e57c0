"""Compare our card ledger with Stripe's own record of Issuing transactions."""

from dataclasses import dataclass, field

from .. import stripe_issuing
from ..models import CardTransaction, CardTransactionSource


@dataclass
class ReconcileReport:
    stripe_count: int = 0
    our_count: int = 0
    differences: list[str] = field(default_factory=list)


def issuing_reconcile(*, created_from: int | None = None) -> ReconcileReport:
    """Reads only. Each Stripe transaction must be posted by us with the same amount, and each
    of ours must exist at Stripe; a refund still waiting for its payment is a difference."""
    ours = {
        row.reference: row
        for row in CardTransaction.objects.filter(source=CardTransactionSource.STRIPE)
    }
    report = ReconcileReport(our_count=len(ours))
    seen = set()
    for item in stripe_issuing.issuing_transactions(created_from=created_from):
        report.stripe_count += 1
        seen.add(item["id"])
        mine = ours.get(item["id"])
        stripe_spend = -int(item["amount"])
        if mine is None:
            report.differences.append(
                f"{item['id']}: at Stripe ({stripe_spend}p on card {item.get('card')}) but not in our ledger"
            )
        elif mine.amount_pence != stripe_spend:
            report.differences.append(
                f"{item['id']}: Stripe says {stripe_spend}p, our ledger says {mine.amount_pence}p"
            )
        elif mine.held:
            report.differences.append(
                f"{item['id']}: refund waiting for its payment, not yet posted"
            )
    if created_from is None:
        for reference in sorted(set(ours) - seen):
            report.differences.append(f"{reference}: in our ledger but not at Stripe")
    return report
