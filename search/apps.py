from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    label = "search"
    verbose_name = "Search"

    def ready(self):
        from . import advice, profile_cache, signals

        signals.connect()
        advice.connect()
        profile_cache.connect_signals()
