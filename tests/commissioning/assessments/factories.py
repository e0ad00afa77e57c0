"""Factories for Personalisation Impact Assessment records."""

import factory

from commissioning.assessments.models import (
    Assessment,
    Framework,
    FrameworkVersion,
    Section,
    Statement,
    VersionStatus,
)
from tests.factories import OrganisationFactory

STATEMENTS = [
    (
        Section.ORGANISATION,
        "O1",
        "I know the organisation listens to what I say about its services.",
    ),
    (Section.SERVICES, "S1", "I can choose who supports me and when."),
    (
        Section.WAYS_OF_WORKING,
        "W1",
        "Staff help me plan my support around my life, not their rota.",
    ),
    (Section.OUTCOMES, "P1", "I am doing the things that matter to me."),
]


class FrameworkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Framework

    name = "Personalisation Impact Assessment"
    slug = factory.Sequence(lambda n: f"pia-{n}")


class FrameworkVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FrameworkVersion
        skip_postgeneration_save = True

    framework = factory.SubFactory(FrameworkFactory)
    number = factory.Sequence(lambda n: n + 1)
    status = VersionStatus.PUBLISHED

    @factory.post_generation
    def statements(obj, create, extracted, **kwargs):
        if not create or extracted is False:
            return
        for order, (section, code, text) in enumerate(extracted or STATEMENTS):
            Statement.objects.create(
                version=obj, section=section, code=code, text=text, guidance="", sort_order=order
            )


class AssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assessment

    organisation = factory.SubFactory(OrganisationFactory)
    version = factory.SubFactory(FrameworkVersionFactory)
