from django.core.management.base import BaseCommand

from marketplace.providers.services import services_flag_stale


class Command(BaseCommand):
    help = "Flag services nobody has confirmed for six months and email their providers."

    def handle(self, *args, **options):
        count = services_flag_stale()
        self.stdout.write(f"Flagged {count} service{'s' if count != 1 else ''} as needing a check.")
