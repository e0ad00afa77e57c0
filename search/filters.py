"""The directory's search parameters and what each one means, for both backends.

``ServiceSearchFilter`` is the one definition: its form validates and cleans
the query string (plain-English errors, never a 500), the Elasticsearch
backend translates ``form.cleaned_data`` into a query, and ``.qs`` applies the
same cleaned data through the ORM for the database fallback.
"""

import copy
from decimal import Decimal
from functools import cache
from types import MappingProxyType

import django_filters

from django import forms
from django.http import QueryDict

from marketplace.accounts.models import CareGroup
from marketplace.providers.geo import PostcodeError, coordinates_for_postcode, normalise_postcode
from marketplace.providers.models import AccessibilityFeature, CqcRating, Sector
from marketplace.providers.taxonomy import ServiceCategory

from .documents.services import DAY_NAMES
from .models import SearchEntry
from .text import MAX_QUERY_LENGTH

DISTANCE_CHOICES = [
    ("1", "1 mile"),
    ("3", "3 miles"),
    ("5", "5 miles"),
    ("10", "10 miles"),
    ("25", "25 miles"),
]
DEFAULT_DISTANCE_MILES = 5
METRES_PER_MILE = 1609.344

CQC_MINIMUM_CHOICES = [
    ("outstanding", "Outstanding"),
    ("good", "Good or better"),
    ("requires_improvement", "Requires improvement or better"),
]
CQC_MINIMUM_RANK = {"outstanding": 4, "good": 3, "requires_improvement": 2}
CQC_RATING_LABELS = {rating.value: rating.label for rating in CqcRating}

SORT_CHOICES = [
    ("relevance", "Best match"),
    ("distance", "Nearest"),
    ("rating", "Highest rated"),
    ("price", "Lowest price"),
]
DAY_CHOICES = [(day, day.capitalize()) for day in DAY_NAMES]
# Who a search can be narrowed to: the council's care groups plus carers and self-funders.
CARE_GROUP_CHOICES = [
    *CareGroup.choices,
    ("carers", "Carers"),
    ("self_funders", "People paying for their own care"),
]
PAGE_SIZE = 20
MAX_PAGE = 500


class SearchForm(forms.Form):
    """Cross-field checks, and the derived values both backends use."""

    def clean_q(self):
        return " ".join((self.cleaned_data.get("q") or "").split())[:MAX_QUERY_LENGTH]

    def clean_postcode(self):
        value = (self.cleaned_data.get("postcode") or "").strip()
        if not value:
            return ""
        try:
            return normalise_postcode(value)
        except PostcodeError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_language(self):
        return (self.cleaned_data.get("language") or "").strip().lower()

    def clean(self):
        cleaned = super().clean()
        postcode = cleaned.get("postcode")
        cleaned["postcode_district"] = ""
        cleaned["origin"] = None
        if postcode:
            try:
                cleaned["origin"] = coordinates_for_postcode(postcode)
                cleaned["postcode_district"] = postcode.split(" ")[0]
            except PostcodeError as error:
                self.add_error("postcode", str(error))
        distance = cleaned.get("distance")
        cleaned["distance_miles"] = int(distance) if distance else DEFAULT_DISTANCE_MILES
        if (
            cleaned.get("sort") == "distance"
            and not cleaned.get("origin")
            and "postcode" not in self.errors
        ):
            self.add_error("postcode", "Enter a postcode to sort by distance, like N3 2SB.")
        max_price = cleaned.get("max_price")
        cleaned["max_price_pence"] = int(max_price * 100) if max_price is not None else None
        cleaned["sort"] = cleaned.get("sort") or (
            "distance" if cleaned.get("origin") and not cleaned.get("q") else "relevance"
        )
        cleaned["page"] = int(cleaned.get("page") or 1)
        return cleaned


class _SharedFields(dict):
    """A form's ``base_fields`` that each form instance gets as a new dict of the same
    (read-only) field objects: BaseForm.__init__ deep-copies ``base_fields``."""

    def __deepcopy__(self, memo):
        return dict(self)


class ServiceSearchFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        help_text="For example, help getting up in the morning, lunch club or a provider’s name.",
    )
    category = django_filters.ChoiceFilter(
        label="Type of support", choices=ServiceCategory.choices, empty_label="Any type"
    )
    care_group = django_filters.ChoiceFilter(
        label="Who it is for", choices=CARE_GROUP_CHOICES, empty_label="Anyone"
    )
    postcode = django_filters.CharFilter(
        label="Postcode", max_length=10, help_text="For example, N3 2SB or N3."
    )
    distance = django_filters.ChoiceFilter(
        label="Distance", choices=DISTANCE_CHOICES, empty_label=None
    )
    max_price = django_filters.NumberFilter(
        label="Maximum price, in pounds",
        min_value=Decimal("0"),
        max_value=Decimal("100000"),
        decimal_places=2,
        help_text="The most you want to pay per hour, session, meal or visit.",
        error_messages={
            "invalid": "Enter a maximum price in pounds, like 25 or 25.50.",
            "min_value": "The maximum price must be £0 or more.",
            "max_value": "The maximum price must be £100,000 or less.",
            "max_decimal_places": "Enter the maximum price in pounds and pence, like 25.50.",
        },
    )
    cqc_rating = django_filters.ChoiceFilter(
        label="CQC rating", choices=CQC_MINIMUM_CHOICES, empty_label="Any rating"
    )
    sector = django_filters.ChoiceFilter(
        label="Type of provider", choices=Sector.choices, empty_label="Any"
    )
    card = django_filters.BooleanFilter(
        label="Takes the prepayment card", widget=forms.CheckboxInput
    )
    language = django_filters.CharFilter(label="Language", max_length=60)
    day = django_filters.ChoiceFilter(label="Open on", choices=DAY_CHOICES, empty_label="Any day")
    vacancies = django_filters.BooleanFilter(label="Has vacancies now", widget=forms.CheckboxInput)
    accessibility = django_filters.ChoiceFilter(
        label="Accessibility", choices=AccessibilityFeature.choices, empty_label="Any"
    )
    sort = django_filters.ChoiceFilter(label="Sort by", choices=SORT_CHOICES, empty_label=None)
    page = django_filters.NumberFilter(
        min_value=1,
        max_value=MAX_PAGE,
        error_messages={
            "invalid": "Enter a page number, like 2.",
            "min_value": "Enter a page number, like 2.",
        },
    )

    class Meta:
        model = SearchEntry
        fields: list[str] = []
        form = SearchForm

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        if data is not None:
            # A GET form's empty boxes should not become "not this": only a tick narrows.
            # (Copied only to drop one: a QueryDict's copy is a deep copy.)
            unticked = [
                key
                for key in ("card", "vacancies")
                if key in data and data.get(key) not in ("1", "true", "on", "True")
            ]
            if unticked:
                data = data.copy()
                for key in unticked:
                    data.pop(key)
        # What FilterSet.__init__ does, less its deep copy of every filter for every
        # search: filter_queryset applies the cleaned data itself and never calls the
        # filters one by one, so they are shared (read-only) instead of copied.
        self.is_bound = data is not None
        self.data = data or QueryDict()
        self.queryset = queryset if queryset is not None else SearchEntry.objects.all()
        self.request = request
        self.form_prefix = prefix
        self.filters = MappingProxyType(self.base_filters)

    @classmethod
    @cache
    def _form_class(cls) -> type[forms.Form]:
        """The form class, built once: its fields depend only on the filters declared here.

        Its form instances share the field objects instead of deep-copying all fifteen
        (with their widgets and choices) for every search, as Django forms do so that a
        view may change one form's fields: nothing changes these (the search view and
        its templates only read them)."""
        filters = copy.deepcopy(cls.base_filters)
        fields = {name: filter_.field for name, filter_ in filters.items()}
        for name, field in fields.items():
            field.required = False
            if name in {"card", "vacancies"}:
                field.widget = forms.CheckboxInput()
        form_class = type(f"{cls.__name__}Form", (cls._meta.form,), fields)
        form_class.base_fields = _SharedFields(form_class.base_fields)
        return form_class

    def get_form_class(self):
        return self._form_class()

    def filter_queryset(self, queryset):
        """The database fallback: the same cleaned data, applied through the ORM."""
        from .backends.database import apply_filters

        return apply_filters(queryset, self.form.cleaned_data)
