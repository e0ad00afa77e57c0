from datetime import date

from django.core.management.base import BaseCommand, CommandError

from commissioning.monitoring.models import Rule
from commissioning.monitoring.services import monitoring_rules_run


class Command(BaseCommand):
    help = "Run the direct-payment monitoring rules and raise cases for monitoring officers."

    def add_arguments(self, parser):
        parser.add_argument("--on", help="Run as of this date (YYYY-MM-DD); default today.")
        parser.add_argument(
            "--rule", action="append", choices=Rule.values, help="Only this rule (repeatable)."
        )

    def handle(self, *args, on=None, rule=None, **options):
        try:
            day = date.fromisoformat(on) if on else None
        except ValueError as error:
            raise CommandError("--on must be a date like 2026-03-31.") from error
        results = monitoring_rules_run(on=day, rules=rule)
        for name, counts in results.items():
            self.stdout.write(
                f"{name:<18} {counts['opened']:>5} opened {counts['refreshed']:>5} still open"
            )
