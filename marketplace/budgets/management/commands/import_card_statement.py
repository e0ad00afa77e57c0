from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.budgets.services import StatementError, statement_import
from marketplace.budgets.statement_schemes import SCHEMES


class Command(BaseCommand):
    help = "Import a prepaid card statement (CSV). All lines or none; lines imported before are skipped."

    def add_arguments(self, parser):
        parser.add_argument("csv", type=Path)
        parser.add_argument("--scheme", choices=sorted(SCHEMES), default="default")

    def handle(self, *args, csv: Path, scheme: str, **options):
        try:
            text = csv.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as error:
            raise CommandError(f"Cannot read {csv}: {error}") from error
        try:
            record = statement_import(text=text, scheme_name=scheme, filename=csv.name)
        except StatementError as error:
            for problem in error.problems:
                self.stderr.write(str(problem))
            raise CommandError(str(error)) from error
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {record.rows_imported} line(s) from {csv.name}; "
                f"{record.rows_already_imported} had been imported before."
            )
        )
