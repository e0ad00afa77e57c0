"""Build or inspect the search indexes.

python manage.py search_index --rebuild   # new index, bulk load, alias swap: no downtime
python manage.py search_index --status
python manage.py search_index --delete    # Elasticsearch alias and every index behind it
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Rebuild the directory's search indexes without taking search down."

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group(required=True)
        group.add_argument("--rebuild", action="store_true", help="Rebuild from the directory.")
        group.add_argument("--status", action="store_true", help="Show what each index holds.")
        group.add_argument("--delete", action="store_true", help="Delete the Elasticsearch index.")

    def handle(self, *args, rebuild: bool, status: bool, delete: bool, **options):
        from search import index
        from search.models import SearchEntry
        from search.services import search_index_rebuild

        if rebuild:
            count = search_index_rebuild(stdout=self.stdout)
            self.stdout.write(self.style.SUCCESS(f"Indexed {count} live services."))
            return
        if delete:
            if not settings.ELASTICSEARCH_URL:
                raise CommandError(
                    "ELASTICSEARCH_URL is not set: there is no Elasticsearch index to delete."
                )
            index.index_drop()
            self.stdout.write("Deleted the Elasticsearch index.")
            return
        self.stdout.write(f"Database fallback: {SearchEntry.objects.count()} services.")
        if settings.ELASTICSEARCH_URL:
            from search.client import get_client

            alias = index.alias_name()
            behind = index.indexes_behind(alias)
            count = get_client().count(index=alias)["count"] if behind else 0
            self.stdout.write(
                f"Elasticsearch: alias {alias} -> {', '.join(behind) or 'nothing'}; {count} services."
            )
        else:
            self.stdout.write("Elasticsearch: not configured (ELASTICSEARCH_URL is not set).")
