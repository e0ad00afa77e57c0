from pathlib import Path

import requests

from django.core.management.base import BaseCommand, CommandError

from marketplace.providers.importers import (
    CSV_HEADER,
    ImportFileError,
    directory_import,
    parse_csv,
    parse_oruk,
)


class Command(BaseCommand):
    help = (
        "Load an Open Referral UK 3.0 service list (JSON file or URL) or a flat CSV of services into "
        "the directory as drafts for moderation. CSV header: " + ", ".join(CSV_HEADER)
    )

    def add_arguments(self, parser):
        parser.add_argument("source", help="A file path or an http(s) URL")
        parser.add_argument(
            "--skip-bad",
            action="store_true",
            help="Import the good rows even if some rows are bad.",
        )
        parser.add_argument("--format", choices=["auto", "oruk", "csv"], default="auto")

    def handle(self, *args, source: str, skip_bad: bool, format: str, **options):
        text = self._read(source)
        kind = format
        if kind == "auto":
            kind = (
                "csv"
                if source.lower().endswith(".csv") or text.lstrip("\ufeff \n\r\t")[:1] not in "[{"
                else "oruk"
            )
        try:
            rows, problems = parse_csv(text) if kind == "csv" else parse_oruk(text)
        except ImportFileError as error:
            raise CommandError(str(error)) from None
        report = directory_import(rows=rows, problems=problems, skip_bad=skip_bad)
        for problem in report.problems:
            self.stderr.write(str(problem))
        if not report.imported:
            raise CommandError(
                f"Nothing imported: {len(report.problems)} bad row(s) out of {len(rows) + len(problems)}. "
                "Fix them, or run again with --skip-bad to import the rest."
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {report.created} new and {report.updated} changed service(s) as drafts waiting "
                f"for moderation; skipped {len(report.problems)} bad row(s)."
            )
        )

    def _read(self, source: str) -> str:
        if source.startswith(("http://", "https://")):
            try:
                response = requests.get(
                    source, timeout=30, headers={"Accept": "application/json, text/csv"}
                )
                response.raise_for_status()
            except requests.RequestException as error:
                raise CommandError(f"Could not fetch {source}: {error}") from None
            return response.text
        path = Path(source)
        if not path.is_file():
            raise CommandError(f"There is no file at {source}.")
        return path.read_text(encoding="utf-8-sig")
