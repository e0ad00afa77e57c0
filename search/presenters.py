"""What the directory's hot pages show for each service, worked out once in Python.

A results page shows 20 cards and a profile shows every service of a provider.
Working out each card's wording here (prices, stars, dates, links) instead of
through dozens of template filters and attribute lookups per card keeps the
template a plain list of values, which is most of the CPU a page costs. The
wording is the same the templates produced before; tests/search hold it to that.
"""

import html
from datetime import date
from functools import lru_cache

from django.urls import reverse
from django.utils import dateformat, translation
from django.utils.safestring import SafeString, mark_safe

from cms.formatting import format_pence
from marketplace.providers.taxonomy import ServiceCategory

from .templatetags.directory_tags import stars_glyphs

_SLUG_PLACEHOLDER = "slug-placeholder"


@lru_cache(maxsize=4096)
def _formatted(iso: str, pattern: str, language: str) -> str:
    with translation.override(language):
        return dateformat.format(date.fromisoformat(iso[:10]), pattern)


def date_text(value, pattern: str = "j F Y", *, language: str | None = None) -> str:
    """An ISO date (or date) as the ``date`` filter would show it: "3 March 2026", in
    ``language`` (default: the active language)."""
    if not value:
        return ""
    iso = value.isoformat() if isinstance(value, date) else str(value)
    return _formatted(iso, pattern, language or translation.get_language() or "en-gb")


def profile_url_for(slug: str) -> str:
    """``/providers/<slug>/`` without resolving the URL pattern for every card."""
    return _profile_url_template().replace(_SLUG_PLACEHOLDER, slug)


@lru_cache(maxsize=1)
def _profile_url_template() -> str:
    return reverse("search:profile", args=[_SLUG_PLACEHOLDER])


def clear_url_caches() -> None:
    """For tests that swap URL configurations."""
    _profile_url_template.cache_clear()


# The results page's card list, as results.html's loop over ``cards`` wrote it: values
# escaped as the template escaped them, one format call per card instead of about
# twenty template nodes (the page's largest CPU cost). test_fast_paths holds it to the
# shared card template's wording.
_CARD = """
        <li class="app-provider-card">
          <h3 class="app-provider-card__heading"><a class="govuk-link" href="{url}">{name}</a></h3>
          <p class="govuk-body-s govuk-!-margin-bottom-2">{category_label} from {organisation_name} <span class="govuk-visually-hidden">,</span>({sector_label})</p>
          <p class="app-provider-card__price">{price}</p>
          <ul class="app-provider-card__meta">
            <li class="app-provider-card__meta-item">{rating}</li>
            <li class="app-provider-card__meta-item">CQC rating: {cqc_text}</li>
            <li class="app-provider-card__meta-item">{takes_card}</li>
            <li class="app-provider-card__meta-item">{vacancies_text}</li>
            {distance}
            {closed}
          </ul>
          <p class="govuk-body">{summary}</p>
          {last_checked}
          {shortlist_form}
        </li>
        """
# directory/includes/shortlist_button.html, for the result cards and the cached profile.
_SHORTLIST_FORM = """\
<form method="post" action="{action_url}" class="app-print-hide">\
<input type="hidden" name="csrfmiddlewaretoken" value="{csrf_token}">
  <input type="hidden" name="service" value="{service_id}">
  <input type="hidden" name="next" value="{next_path}">
  <input type="hidden" name="action" value="{action}">
  <button type="submit" class="govuk-button govuk-button--secondary \
govuk-!-margin-bottom-0" data-module="govuk-button">{button} shortlist<span \
class="govuk-visually-hidden">: {service_name}</span></button>
</form>"""
_TAKES_CARD = '<strong class="govuk-tag govuk-tag--green">Takes the prepayment card</strong>'
_CLOSED = (
    '<li class="app-provider-card__meta-item">'
    '<strong class="govuk-tag govuk-tag--yellow">Temporarily closed</strong></li>'
)


def _escape(value) -> str:
    """Django's conditional_escape without its lazy-argument wrapper (a third of its cost
    on a page of a few hundred values): safe strings as they are, the rest escaped."""
    if type(value) is str:  # most values: plain text from a search document
        return html.escape(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def shortlist_form_html(
    *,
    service_id: int,
    service_name: str,
    on_list: bool,
    csrf_token: str,
    action_url: str,
    next_path: str,
) -> SafeString:
    """A service's add-to / remove-from shortlist form, every value escaped."""
    return mark_safe(  # noqa: S308 - every value is escaped
        _SHORTLIST_FORM.format(
            action_url=_escape(action_url),
            csrf_token=_escape(csrf_token),
            service_id=_escape(service_id),
            next_path=_escape(next_path),
            action="remove" if on_list else "add",
            button="Remove from" if on_list else "Add to",
            service_name=_escape(service_name),
        )
    )


def result_cards_html(
    hits, *, shortlist: set[int], csrf_token: str, action_url: str, next_path: str
) -> SafeString:
    """The ``<li>`` of each result card, with its shortlist form, from search hits
    (ServiceHit): the wording of search/includes/result_card.html, worked out and
    written in one pass per card; dates in the active language."""
    escape = html.escape  # a search document's values are plain text
    language = translation.get_language() or "en-gb"
    # The same for every card's shortlist form: escaped once.
    action_url, csrf_token, next_path = escape(action_url), escape(csrf_token), escape(next_path)
    parts = []
    for hit in hits:
        document = hit.document
        get = document.get
        service_id = hit.service_id
        name = escape(get("name") or "")
        price = get("min_price_pence")
        rating_count = get("rating_count") or 0
        vacancies = get("vacancies")
        if get("has_vacancies"):
            confirmed = date_text(get("vacancies_confirmed_on"), language=language)
            vacancies_text = f"Vacancies: {vacancies}" + (
                f" (confirmed {confirmed})" if confirmed else ""
            )
        elif vacancies == 0:
            vacancies_text = "No vacancies at the moment"
        else:
            vacancies_text = "Ask about vacancies"
        if get("cqc_rating"):
            cqc_date = date_text(get("cqc_rating_date"), "F Y", language=language)
            cqc_text = document["cqc_rating"] + (f" ({cqc_date})" if cqc_date else "")
        else:
            cqc_text = "not rated by CQC"
        if rating_count:
            rating = get("rating_average")
            rating_html = (
                f'<span aria-hidden="true">{stars_glyphs(rating)}</span> '
                + (f"{float(rating):.1f} out of 5 stars" if rating is not None else "Not yet rated")
                + f" ({rating_count} review{'' if rating_count == 1 else 's'})"
            )
        else:
            rating_html = "No reviews yet"
        distance = hit.distance_miles
        last_checked = date_text(get("last_checked"), language=language)
        on_list = service_id in shortlist
        parts.append(
            _CARD.format(
                url=escape(
                    f"{profile_url_for(get('organisation_slug') or '')}#service-{service_id}"
                ),
                name=name,
                category_label=escape(get("category_label") or ""),
                organisation_name=escape(get("organisation_name") or ""),
                sector_label=escape((get("sector_label") or "").lower()),
                price=escape(
                    f"From {format_pence(price)} {get('price_unit_label') or ''}"
                    if price is not None
                    else "Ask the provider for prices"
                ),
                rating=rating_html,
                cqc_text=escape(cqc_text),
                takes_card=_TAKES_CARD
                if get("takes_card")
                else "Does not take the prepayment card",
                vacancies_text=escape(vacancies_text),
                distance=(
                    f'<li class="app-provider-card__meta-item">{distance} miles away</li>'
                    if distance is not None
                    else ""
                ),
                closed=_CLOSED if get("temporarily_closed") else "",
                summary=escape(get("summary") or ""),
                last_checked=(
                    f'<p class="govuk-body-s app-meta">Last checked {escape(last_checked)}</p>'
                    if last_checked
                    else ""
                ),
                # shortlist_form_html's form, its values escaped above.
                shortlist_form=_SHORTLIST_FORM.format(
                    action_url=action_url,
                    csrf_token=csrf_token,
                    service_id=service_id,
                    next_path=next_path,
                    action="remove" if on_list else "add",
                    button="Remove from" if on_list else "Add to",
                    service_name=name,
                ),
            )
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value above is escaped


def options_html(choices, selected: str) -> SafeString:
    """``<option>`` elements for fixed ``(value, label)`` choices, ``selected`` marked."""
    return mark_safe(  # noqa: S308 - every value is escaped
        "".join(
            f'<option value="{_escape(value)}"{" selected" if str(value) == selected else ""}>'
            f"{_escape(label)}</option>"
            for value, label in choices
        )
    )


# A select filter whose options carry their result counts: the markup the page's seven
# "select_facet" includes wrote, without seven template includes per page.
_SELECT_FACET = """
<div class="govuk-form-group{error_class}">
  <label class="govuk-label govuk-label--s" for="{id}">{label}</label>
  {errors}
  <select class="govuk-select" id="{id}" name="{name}" form="search-form">
    <option value="">{empty}</option>
    {options}
  </select>
</div>
"""


def select_facet_html(field, *, options_html: str, empty: str) -> SafeString:
    """One facet's ``<select>`` (a bound form field) with its label, errors and options."""
    field_id = _escape(field.auto_id)
    errors = field.errors
    return mark_safe(  # noqa: S308 - every value is escaped
        _SELECT_FACET.format(
            error_class=" govuk-form-group--error" if errors else "",
            id=field_id,
            label=_escape(field.label),
            errors="".join(
                f'<p class="govuk-error-message" id="{field_id}-error"><span '
                f'class="govuk-visually-hidden">Error:</span> {_escape(error)}</p>'
                for error in errors
            ),
            name=_escape(field.html_name),
            empty=_escape(empty),
            options=options_html or "",
        )
    )


def category_label(value: str) -> str:
    return _category_labels().get(value, value)


@lru_cache(maxsize=1)
def _category_labels() -> dict:
    return dict(ServiceCategory.choices)


@lru_cache(maxsize=2048)
def _option_start(value: str, label: str, selected: bool) -> str:
    """``<option value="..." selected>Label (`` escaped: facet values and labels come
    from a few fixed lists (and the languages services offer), so each is escaped once."""
    return f'<option value="{_escape(value)}"{" selected" if selected else ""}>{_escape(label)} ('


def facet_options_html(facets: dict) -> dict[str, SafeString]:
    """Each facet's ``<option>`` elements, "Label (count)", escaped as a template would.

    A results page lists about sixty facet values; joining them here costs a
    fraction of a template loop with four lookups and a condition per option.
    """
    return {
        name: mark_safe(  # noqa: S308 - every value is escaped
            "".join(
                f"{_option_start(option.value, str(option.label), option.selected)}"
                f"{_escape(option.count)})</option>"
                for option in options
            )
        )
        for name, options in facets.items()
    }


# search/results.html's GOV.UK pagination, as its include wrote it (the same whitespace).
_PAGINATION_PREVIOUS = '<div class="govuk-pagination__prev"><a class="govuk-link govuk-pagination__link" href="{href}" rel="prev"><svg class="govuk-pagination__icon govuk-pagination__icon--prev" xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true" focusable="false" viewBox="0 0 15 13"><path d="m6.5938-0.0078125-6.7266 6.7266 6.7441 6.4062 1.377-1.449-4.1856-3.9768h12.896v-2h-12.984l4.2931-4.293-1.414-1.414z"></path></svg><span class="govuk-pagination__link-title">Previous<span class="govuk-visually-hidden"> page</span></span></a></div>'
_PAGINATION_NEXT = '<div class="govuk-pagination__next"><a class="govuk-link govuk-pagination__link" href="{href}" rel="next"><span class="govuk-pagination__link-title">Next<span class="govuk-visually-hidden"> page</span></span><svg class="govuk-pagination__icon govuk-pagination__icon--next" xmlns="http://www.w3.org/2000/svg" height="13" width="15" aria-hidden="true" focusable="false" viewBox="0 0 15 13"><path d="m8.107-0.0078125-1.4136 1.414 4.2926 4.293h-12.986v2h12.896l-4.1855 3.9766 1.377 1.4492 6.7441-6.4062-6.7246-6.7266z"></path></svg></a></div>'
_PAGINATION_ELLIPSIS = (
    '<li class="govuk-pagination__item govuk-pagination__item--ellipses">&ctdot;</li>\n    '
)


# The results page's payment and vacancy filters, with their counts.
_PAYMENT_FILTERS = """<div class="app-facet">
      <fieldset class="govuk-fieldset">
        <legend class="govuk-fieldset__legend govuk-fieldset__legend--s"><h3 class="govuk-fieldset__heading">Payment and places</h3></legend>
        <div class="govuk-checkboxes govuk-checkboxes--small" data-module="govuk-checkboxes">
          <div class="govuk-checkboxes__item">
            <input class="govuk-checkboxes__input" id="id_card" name="card" type="checkbox" value="1" form="search-form"{card_checked}>
            <label class="govuk-label govuk-checkboxes__label" for="id_card">Takes the prepayment card{card_count}</label>
          </div>
          <div class="govuk-checkboxes__item">
            <input class="govuk-checkboxes__input" id="id_vacancies" name="vacancies" type="checkbox" value="1" form="search-form"{vacancies_checked}>
            <label class="govuk-label govuk-checkboxes__label" for="id_vacancies">Has vacancies now{vacancies_count}</label>
          </div>
        </div>
      </fieldset>
    </div>"""


def payment_filters_html(facets: dict, cleaned: dict) -> SafeString:
    """The "Payment and places" checkboxes, ticked as searched, with their counts."""

    def count(name: str) -> str:
        values = facets.get(name)
        return f" ({int(values[0].count)})" if values else ""

    return mark_safe(  # noqa: S308 - fixed markup and integers
        _PAYMENT_FILTERS.format(
            card_checked=" checked" if cleaned.get("card") else "",
            card_count=count("card"),
            vacancies_checked=" checked" if cleaned.get("vacancies") else "",
            vacancies_count=count("vacancies"),
        )
    )


_CHECK_YOUR_SEARCH = """<h2 class="govuk-heading-m">Check your search</h2>
      <p class="govuk-body">Correct the problem shown above, then search again.</p>"""
_SEARCH_UNAVAILABLE = """<h2 class="govuk-heading-m" id="results-heading">Search is not working at the moment</h2>
      <p class="govuk-body">Try again in a few minutes.</p>"""
_NOTHING_FOUND = """<p class="govuk-body">We could not find any services that match. You could:</p>
      <ul class="govuk-list govuk-list--bullet">
        <li>use fewer or different words</li>
        <li>remove some filters</li>
        <li>search a wider distance</li>
      </ul>
      <p class="govuk-body">We record searches that find nothing, without any personal details, to show the council where support is missing.</p>"""
_RESULTS = """<div class="govuk-form-group app-print-hide">
        <label class="govuk-label" for="{sort_id}">Sort by</label>
        <select class="govuk-select" id="{sort_id}" name="sort" form="search-form">
          {sort_options}
        </select>
        <button type="submit" class="govuk-button govuk-button--secondary govuk-!-margin-bottom-0" form="search-form" data-module="govuk-button">Sort</button>
      </div>
      <p class="govuk-body-s">Showing {first} to {last} of {total}.</p>
      <ul class="govuk-list" aria-labelledby="results-heading">
        {cards_html}
      </ul>
      {pagination_html}"""


def results_column_html(
    result, *, cleaned: dict, sort_id: str, sort_options: str, cards_html: str, pagination_html: str
) -> SafeString:
    """The results column: why there are no results (a form error, the search engine
    down, nothing found), or the count, the sort box, the cards and the pages.
    ``sort_options``, ``cards_html`` and ``pagination_html`` are HTML already escaped."""
    if result.errors:
        return mark_safe(_CHECK_YOUR_SEARCH)  # noqa: S308 - fixed markup
    if result.unavailable:
        return mark_safe(_SEARCH_UNAVAILABLE)  # noqa: S308 - fixed markup
    total = int(result.total)
    heading = f"{total} result{'' if total == 1 else 's'}"
    if cleaned.get("postcode"):
        heading += (
            f" within {_escape(cleaned.get('distance_miles'))} miles of "
            f"{_escape(cleaned['postcode'])}"
        )
    body = (
        _RESULTS.format(
            sort_id=_escape(sort_id),
            sort_options=sort_options,
            first=int(result.first_index),
            last=int(result.last_index),
            total=total,
            cards_html=cards_html,
            pagination_html=pagination_html,
        )
        if total
        else _NOTHING_FOUND
    )
    return mark_safe(  # noqa: S308 - every value above is escaped or an integer
        f'<h2 class="govuk-heading-m" id="results-heading">{heading}</h2>\n      {body}'
    )


def pagination_html(pagination: dict | None) -> SafeString:
    """GOV.UK pagination (previous, numbers with ellipses, next) from the view's
    ``pagination`` (search.views._pagination), every link escaped; a newline when
    there is one page."""
    if not pagination:
        return mark_safe("\n")
    items = []
    for item in pagination["items"]:
        if item.get("ellipsis"):
            items.append(f"\n    {_PAGINATION_ELLIPSIS}\n    ")
            continue
        number = _escape(item["number"])
        current_class, current_attribute = (
            (" govuk-pagination__item--current", ' aria-current="page"')
            if item["current"]
            else ("", "")
        )
        items.append(
            f'\n    <li class="govuk-pagination__item{current_class}">'
            f'<a class="govuk-link govuk-pagination__link" href="{_escape(item["href"])}" '
            f'aria-label="Page {number}"{current_attribute}>{number}</a></li>\n    '
        )
    previous, following = pagination["previous"], pagination["next"]
    return mark_safe(  # noqa: S308 - every value is escaped
        '\n<nav class="govuk-pagination app-print-hide" aria-label="Results pages">\n  '
        + (_PAGINATION_PREVIOUS.format(href=_escape(previous)) if previous else "")
        + '\n  <ul class="govuk-pagination__list">\n    '
        + "".join(items)
        + "\n  </ul>\n  "
        + (_PAGINATION_NEXT.format(href=_escape(following)) if following else "")
        + "\n</nav>\n\n"
    )
