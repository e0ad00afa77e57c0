from django.core.management.base import BaseCommand, CommandError

from marketplace.budgets.services import ledger_check


class Command(BaseCommand):
    help = "Check every journal entry balances and every cached balance equals its postings."

    def handle(self, *args, **options):
        problems = ledger_check()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"The ledger has {len(problems)} problem(s).")
        self.stdout.write(self.style.SUCCESS("The ledger balances."))
