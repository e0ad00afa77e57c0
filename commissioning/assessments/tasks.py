from celery import shared_task

from .services import reassessment_reminders_send


@shared_task(name="assessments.send_reassessment_reminders")
def send_reassessment_reminders() -> int:
    """Daily: the yearly reminder to reassess."""
    return reassessment_reminders_send()
