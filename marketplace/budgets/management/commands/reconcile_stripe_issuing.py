from django.core.management.base import BaseCommand, CommandError

from marketplace.budgets.services.reconcile import issuing_reconcile


class Command(BaseCommand):
    help = (
        "Compare our card ledger with Stripe's list of Issuing transactions and report differences."
    )

    def add_arguments(self, parser):
        parser.add_argument("--since", type=int, default=None, help="Unix time to start from")

    def handle(self, *args, since, **options):
        report = issuing_reconcile(created_from=since)
        for line in report.differences:
            self.stdout.write(line)
        self.stdout.write(
            f"Stripe: {report.stripe_count} transaction(s); ours: {report.our_count}; "
            f"{len(report.differences)} difference(s)."
        )
        if report.differences:
            raise CommandError("The ledger and Stripe disagree.")
        self.stdout.write(self.style.SUCCESS("The ledger agrees with Stripe."))
