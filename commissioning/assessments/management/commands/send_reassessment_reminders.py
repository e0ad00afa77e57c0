from django.core.management.base import BaseCommand

from commissioning.assessments.services import reassessment_reminders_send


class Command(BaseCommand):
    help = "E-mail providers whose assessment was agreed a year ago (safe to rerun daily)."

    def handle(self, *args, **options):
        self.stdout.write(f"Sent {reassessment_reminders_send()} reassessment reminders.")
