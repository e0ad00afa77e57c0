"""Reading a demand query from request parameters (dashboard, exports and the API share it)."""

import re
from datetime import date

from django.http import QueryDict

from marketplace.accounts.models import CareGroup
from marketplace.payments.models import Channel
from marketplace.providers.models import Sector
from marketplace.providers.taxonomy import ServiceCategory

from .selectors import DIMENSIONS, DemandQuery, add_months, default_period

FILTER_DIMENSIONS = ("category", "locality", "care_group", "sector", "provider", "channel")
_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
MAX_MONTHS = 120

_ALLOWED = {
    "category": {c for c, _ in ServiceCategory.choices},
    "care_group": {c for c, _ in CareGroup.choices},
    "sector": {c for c, _ in Sector.choices} | {""},
    "channel": {c for c, _ in Channel.choices},
}


class BadParameters(ValueError):
    """The request asked for something we cannot answer; the message says what to change."""


def parse_month(value: str, name: str) -> date:
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise BadParameters(f"'{name}' must be a month written as YYYY-MM, for example 2026-03.")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _values(params: QueryDict, name: str) -> list[str]:
    values = []
    for raw in params.getlist(name):
        values.extend(part.strip() for part in raw.split(",") if part.strip())
    return values


def parse_query(
    params: QueryDict, *, group_by_param: str = "group_by", default_group_by=()
) -> DemandQuery:
    """A ``DemandQuery`` from ``from``, ``to``, ``group_by`` and one parameter per dimension."""
    start, end = default_period()
    if params.get("from"):
        start = parse_month(params["from"], "from")
    if params.get("to"):
        end = parse_month(params["to"], "to")
    if end < start:
        raise BadParameters("'to' must be the same month as 'from' or later.")
    if add_months(start, MAX_MONTHS) <= end:
        raise BadParameters(f"A period can be at most {MAX_MONTHS} months long.")
    group_by = tuple(_values(params, group_by_param)) or tuple(default_group_by)
    for name in group_by:
        if name not in DIMENSIONS:
            raise BadParameters(
                f"'{name}' is not a dimension. Use any of: {', '.join(DIMENSIONS)}."
            )
    if len(set(group_by)) != len(group_by):
        raise BadParameters("Each dimension can appear in group_by only once.")
    filters = []
    for name in FILTER_DIMENSIONS:
        values = _values(params, name)
        if not values:
            continue
        for value in values:
            if name == "locality":
                if not _DISTRICT.match(value.upper()):
                    raise BadParameters(f"'{value}' is not a postcode district such as N3 or EN5.")
            elif name == "provider":
                if not value.isdigit():
                    raise BadParameters("'provider' must be a provider's number.")
            elif value not in _ALLOWED[name]:
                raise BadParameters(f"'{value}' is not a known {name.replace('_', ' ')}.")
        if name == "locality":
            values = [v.upper() for v in values]
        filters.append((name, tuple(sorted(set(values)))))
    return DemandQuery(start=start, end=end, group_by=group_by, filters=tuple(filters))
