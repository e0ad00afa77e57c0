from django.conf import settings
from django.core.management.base import BaseCommand

from cms.content import load_starter_content


class Command(BaseCommand):
    help = "Create the home page, information and advice guides and glossary on a new site."

    def handle(self, *args, **options):
        home = load_starter_content(council_name=settings.COUNCIL_NAME)
        self.stdout.write(f"Home page: {home.title}")
