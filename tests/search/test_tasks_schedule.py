"""Search's periodic catch-up is scheduled like every other periodic task."""

from config.celery import app
from search.tasks import CATCH_UP_SECONDS, services_reindex_recently_confirmed


def test_catch_up_is_on_the_beat_schedule_once(settings):
    entries = [
        entry
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] == services_reindex_recently_confirmed.name
    ]
    assert len(entries) == 1
    assert entries[0]["schedule"] == CATCH_UP_SECONDS
    assert services_reindex_recently_confirmed.name in app.tasks
    # No second registration through an on_after_finalize hook.
    assert [
        name
        for name, periodic in (app.conf.beat_schedule or {}).items()
        if periodic["task"] == services_reindex_recently_confirmed.name
    ] == ["search-reindex-recently-confirmed"]
