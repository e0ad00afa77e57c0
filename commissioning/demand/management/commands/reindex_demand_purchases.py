from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Rebuild the Elasticsearch purchases index for demand figures, swapping the alias at the end."

    def handle(self, *args, **options):
        if not settings.ELASTICSEARCH_URL:
            raise CommandError(
                "ELASTICSEARCH_URL is not set: demand figures come from the rollups."
            )
        from commissioning.demand.elasticsearch import purchases_reindex

        written = purchases_reindex()
        self.stdout.write(f"Indexed {written} purchases.")
