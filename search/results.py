"""What a search returns, whichever backend answered."""

from dataclasses import dataclass, field
from datetime import date

from django.utils.functional import cached_property

from .filters import PAGE_SIZE


@dataclass
class ServiceHit:
    """One service in a list of results, read from its search document."""

    service_id: int
    document: dict
    distance_metres: float | None = None

    def __getattr__(self, name):
        try:
            return self.__dict__["document"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def distance_miles(self) -> float | None:
        if self.distance_metres is None:
            return None
        return round(self.distance_metres / 1609.344, 1)

    @staticmethod
    def _date(value):
        return date.fromisoformat(value[:10]) if value else None

    @property
    def last_checked_date(self):
        return self._date(self.document.get("last_checked"))

    @property
    def vacancies_date(self):
        return self._date(self.document.get("vacancies_confirmed_on"))

    @property
    def cqc_date(self):
        return self._date(self.document.get("cqc_rating_date"))


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    items: list[ServiceHit]
    total: int
    facets: dict[str, list[FacetValue]]
    page: int
    backend: str
    errors: dict = field(default_factory=dict)
    page_size: int = PAGE_SIZE
    # The search engine did not answer (down, timed out, an error): nothing was searched.
    unavailable: bool = False

    @cached_property
    def page_count(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def first_index(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.total else 0

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.page_size)

    @property
    def service_ids(self) -> list[int]:
        return [item.service_id for item in self.items]
