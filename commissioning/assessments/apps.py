from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "commissioning.assessments"
    label = "assessments"
