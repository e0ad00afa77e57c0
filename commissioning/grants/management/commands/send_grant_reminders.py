from django.core.management.base import BaseCommand

from commissioning.grants.services import grant_reminders_send


class Command(BaseCommand):
    help = "E-mail grantees about monitoring reports due soon or overdue (safe to rerun daily)."

    def handle(self, *args, **options):
        sent = grant_reminders_send()
        self.stdout.write(f"Sent {sent['before']} due-soon and {sent['after']} overdue reminders.")
