from django.apps import AppConfig


class DemandConfig(AppConfig):
    name = "commissioning.demand"
    label = "demand"
