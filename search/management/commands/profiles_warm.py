"""Render the provider profile bodies that are not cached under their current version.

python manage.py profiles_warm              # every published organisation that needs it
python manage.py profiles_warm --limit 500  # at most 500 of them

Run after loading or rebuilding data outside the web processes (a restore, a bulk
import, a benchmark build), after clearing the cache, or to warm a new day's keys
before visitors arrive. The beat catch-up (search.reindex_recently_confirmed) does
the same a batch at a time.
"""

import time

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Render the provider profile bodies not cached under their current version."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=int, default=None, help="Render at most this many (default: all)."
        )

    def handle(self, *args, limit: int | None, **options):
        from search.profile_cache import profiles_warm_missing

        if limit is not None and limit < 1:
            raise CommandError("--limit must be 1 or more.")
        started = time.perf_counter()
        rendered = profiles_warm_missing(limit=limit)
        self.stdout.write(
            self.style.SUCCESS(
                f"Rendered {rendered} provider profile{'' if rendered == 1 else 's'} "
                f"in {time.perf_counter() - started:.1f} s."
            )
        )
