from django.core.management.base import BaseCommand
from django.utils import timezone

from marketplace.budgets.services import budget_loads_post_due, card_refunds_release_held


class Command(BaseCommand):
    help = "Pay in every budget load due today or earlier, and post refunds that waited too long."

    def handle(self, *args, **options):
        loads = budget_loads_post_due(on=timezone.localdate())
        refunds = card_refunds_release_held()
        self.stdout.write(f"Paid in {loads} load(s); posted {refunds} waiting refund(s).")
