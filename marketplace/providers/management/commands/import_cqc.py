from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from marketplace.providers.importers import ImportFileError, cqc_ratings_import


class Command(BaseCommand):
    help = (
        "Set CQC ratings from the regulator's locations-and-ratings CSV (columns include "
        '"Location ID", "Location Name", "Latest Rating", "Publication Date"), matched by CQC location id.'
    )

    def add_arguments(self, parser):
        parser.add_argument("csv_file")

    def handle(self, *args, csv_file: str, **options):
        path = Path(csv_file)
        if not path.is_file():
            raise CommandError(f"There is no file at {csv_file}.")
        try:
            report = cqc_ratings_import(text=path.read_text(encoding="utf-8-sig", errors="replace"))
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        for problem in report.invalid:
            self.stderr.write(f"Row {problem.number}: {problem.reason}")
        for problem in report.unmatched:
            self.stdout.write(f"Unmatched row {problem.number}: {problem.reason}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Updated {report.updated} rating(s); {report.unchanged} already up to date; "
                f"{len(report.unmatched)} unmatched; {len(report.invalid)} unreadable."
            )
        )
