"""The search document for one live service, shared by both search backends.

Elasticsearch indexes it as is; the database fallback stores the same dict in
search.SearchEntry. Each ``prepare_<field>`` method says where a value comes
from, so the two backends cannot drift apart.

The Elasticsearch server we can run has only the built-in analyzers (no
analysis-common module), so text fields use ``standard``; synonyms are
expanded at query time (search.text) and autocomplete uses the completion
suggester.
"""

from elasticsearch_dsl import (
    Boolean,
    Completion,
    Date,
    Document,
    Float,
    GeoPoint,
    Integer,
    Keyword,
    Text,
)

from django.db.models import Prefetch
from django.utils import timezone

from marketplace.providers.models import CQC_RATING_RANK, Service
from marketplace.providers.taxonomy import ServiceCategory

# One description of the day of the week everywhere: the lower-case English name.
DAY_NAMES = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


def service_queryset():
    """The services that belong in the index, with everything a document needs in 3 queries."""
    from marketplace.providers.models import CostOption

    return (
        Service.objects.published()
        .select_related("organisation", "organisation__rating")
        .prefetch_related(
            "care_groups",
            Prefetch("cost_options", queryset=CostOption.objects.order_by("amount_pence")),
            "areas",
            "locations",
            "schedules",
            "languages",
            "accessibility",
        )
    )


def _organisation_rating(service):
    try:
        return service.organisation.rating
    except Exception:  # noqa: BLE001 - no published reviews yet means no rating row
        return None


class ServiceDocument(Document):
    service_id = Integer()
    name = Text(analyzer="standard", fields={"raw": Keyword()})
    summary = Text(analyzer="standard")
    text = Text(analyzer="standard")
    organisation_id = Integer()
    organisation_name = Text(analyzer="standard", fields={"raw": Keyword()})
    organisation_slug = Keyword()
    sector = Keyword()
    sector_label = Keyword(index=False)
    category = Keyword()
    category_label = Keyword()
    care_groups = Keyword()
    min_age = Integer()
    max_age = Integer()
    min_price_pence = Integer()
    price_unit = Keyword()
    price_unit_label = Keyword(index=False)
    cqc_rating = Keyword()
    cqc_rating_rank = Integer()
    cqc_rating_date = Date()
    takes_card = Boolean()
    languages = Keyword()
    language_names = Keyword(index=False)
    days = Keyword()
    vacancies = Integer()
    has_vacancies = Boolean()
    vacancies_confirmed_on = Date()
    accessibility = Keyword()
    areas = Keyword()
    locations = GeoPoint()
    rating_count = Integer()
    rating_average = Float()
    last_checked = Date()
    temporarily_closed = Boolean()
    suggest = Completion(analyzer="simple")

    class Index:
        # The real name is the environment-prefixed alias (search.index.alias_name).
        name = "services"

    # -- building ---------------------------------------------------------------------

    @classmethod
    def prepare(cls, service) -> dict:
        """The document for ``service`` as a plain dict, ``_id`` included."""
        document = {"_id": service.pk}
        for field in cls._doc_type.mapping:
            document[field] = getattr(cls, f"prepare_{field}")(service)
        return document

    @staticmethod
    def prepare_service_id(service):
        return service.pk

    @staticmethod
    def prepare_name(service):
        return service.name

    @staticmethod
    def prepare_summary(service):
        text = " ".join(service.description.split())
        return text if len(text) <= 240 else text[:237].rsplit(" ", 1)[0] + "…"

    @staticmethod
    def prepare_text(service):
        """Everything free text searches: service, organisation, category and who it is for."""
        parts = [
            service.name,
            service.description,
            service.organisation.name,
            service.get_category_display(),
            *(group.get_care_group_display() for group in service.care_groups.all()),
            *(language.name for language in service.languages.all()),
        ]
        return " ".join(" ".join(parts).split())

    @staticmethod
    def prepare_organisation_id(service):
        return service.organisation_id

    @staticmethod
    def prepare_organisation_name(service):
        return service.organisation.name

    @staticmethod
    def prepare_organisation_slug(service):
        return service.organisation.slug

    @staticmethod
    def prepare_sector(service):
        return service.organisation.sector

    @staticmethod
    def prepare_sector_label(service):
        return service.organisation.get_sector_display()

    @staticmethod
    def prepare_category(service):
        return service.category

    @staticmethod
    def prepare_category_label(service):
        return ServiceCategory(service.category).label

    @staticmethod
    def prepare_care_groups(service):
        return sorted(group.care_group for group in service.care_groups.all())

    @staticmethod
    def prepare_min_age(service):
        return service.minimum_age

    @staticmethod
    def prepare_max_age(service):
        return service.maximum_age

    @staticmethod
    def _cheapest(service):
        options = sorted(service.cost_options.all(), key=lambda option: option.amount_pence)
        return options[0] if options else None

    @classmethod
    def prepare_min_price_pence(cls, service):
        cheapest = cls._cheapest(service)
        return cheapest.amount_pence if cheapest else None

    @classmethod
    def prepare_price_unit(cls, service):
        cheapest = cls._cheapest(service)
        return cheapest.unit if cheapest else None

    @classmethod
    def prepare_price_unit_label(cls, service):
        cheapest = cls._cheapest(service)
        return cheapest.get_unit_display() if cheapest else None

    @staticmethod
    def prepare_cqc_rating(service):
        return service.cqc_rating or None

    @staticmethod
    def prepare_cqc_rating_rank(service):
        return CQC_RATING_RANK.get(service.cqc_rating, 0)

    @staticmethod
    def prepare_cqc_rating_date(service):
        return service.cqc_rating_date.isoformat() if service.cqc_rating_date else None

    @staticmethod
    def prepare_takes_card(service):
        return bool(service.accepts_prepayment_card)

    @staticmethod
    def prepare_languages(service):
        return sorted({language.name.strip().lower() for language in service.languages.all()})

    @staticmethod
    def prepare_language_names(service):
        return sorted({language.name.strip() for language in service.languages.all()})

    @staticmethod
    def prepare_days(service):
        return sorted(
            {DAY_NAMES[schedule.weekday] for schedule in service.schedules.all()},
            key=DAY_NAMES.index,
        )

    @staticmethod
    def prepare_vacancies(service):
        return service.vacancies

    @staticmethod
    def prepare_has_vacancies(service):
        return bool(service.vacancies)

    @staticmethod
    def prepare_vacancies_confirmed_on(service):
        confirmed = service.vacancies_confirmed_on
        return confirmed.isoformat() if confirmed else None

    @staticmethod
    def prepare_accessibility(service):
        return sorted(feature.feature for feature in service.accessibility.all())

    @staticmethod
    def prepare_areas(service):
        return sorted(area.postcode_district.upper() for area in service.areas.all())

    @staticmethod
    def prepare_locations(service):
        return [
            {"lat": float(location.latitude), "lon": float(location.longitude)}
            for location in service.locations.all()
            if location.latitude is not None and location.longitude is not None
        ]

    @staticmethod
    def prepare_rating_count(service):
        rating = _organisation_rating(service)
        return rating.review_count if rating else 0

    @staticmethod
    def prepare_rating_average(service):
        rating = _organisation_rating(service)
        if rating is None or not rating.review_count or rating.smoothed_rating is None:
            return None
        return float(rating.smoothed_rating)

    @staticmethod
    def prepare_last_checked(service):
        confirmed = service.last_confirmed_at
        return timezone.localdate(confirmed).isoformat() if confirmed else None

    @staticmethod
    def prepare_temporarily_closed(service):
        return service.status == "temporarily closed"

    @staticmethod
    def prepare_suggest(service):
        # Every word-start of the names, so "care" completes "Barnet Home Care".
        inputs = []
        for name in (service.name, service.organisation.name):
            words = name.split()
            inputs.extend(" ".join(words[start:]) for start in range(min(len(words), 6)))
        return {
            "input": list(dict.fromkeys(inputs)),
            "weight": 1 + min(_organisation_rating(service).review_count, 50)
            if _organisation_rating(service)
            else 1,
        }
