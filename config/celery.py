"""The Celery application. With no REDIS_URL, tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")

app = Celery("social_care_connect")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
