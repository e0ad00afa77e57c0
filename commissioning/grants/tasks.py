from celery import shared_task

from .services import grant_reminders_send


@shared_task(name="grants.send_grant_reminders")
def send_grant_reminders() -> dict[str, int]:
    """Daily: monitoring report reminders before and after their due dates."""
    return grant_reminders_send()
