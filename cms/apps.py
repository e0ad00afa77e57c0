from django.apps import AppConfig


class CmsConfig(AppConfig):
    name = "cms"
    label = "cms"
    verbose_name = "Content"

    def ready(self):
        from . import chrome

        chrome.connect()
