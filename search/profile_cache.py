"""The provider profile's person-independent body, cached per organisation.

A profile costs most of its CPU rendering every service of a provider, and
almost nothing on it depends on who is looking. The body (organisation header,
services, assessment status, Innovation Fund projects, the first page of
reviews) is rendered once and kept in Django's cache (Redis when REDIS_URL is
set, local memory otherwise) under

    profile:<organisation id>:<today>:<all-profiles version>:<organisation version>

The organisation version is a fresh token written after any transaction that
changes something the profile shows commits (signal receivers below:
organisation, service and its child rows, reviews, rating rows, assessments,
grant applications and awards). The all-profiles version is renewed by
writes that touch many organisations without per-row signals
(``profiles_all_changed``: the rating rebuild, fund/round/framework renames).
Today's date is part of the key because "may be out of date" and a project's
"in progress / completed" depend on it.

The version is read before the database, so a render that raced a change is
stored under the old version and never served after it. The per-visitor parts
(shortlist buttons with the CSRF token, "Write a review") are left as markers
in the cached text and filled in per request (``fill_visitor_parts``). Only the
public view of a published organisation, with no query string, reads or
writes the cache: drafts, previews and other review pages are rendered fresh.
"""

import re
import uuid

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.html import format_html

BODY_TIMEOUT = 60 * 60 * 24
ALL_KEY = "profile:all"
_MARKER = re.compile(r"<!--scc:(shortlist:(\d+)|may-review)-->")


def _version_key(organisation_id: int) -> str:
    return f"profile:v:{organisation_id}"


def shortlist_marker(service_id: int) -> str:
    return f"<!--scc:shortlist:{int(service_id)}-->"


MAY_REVIEW_MARKER = "<!--scc:may-review-->"


def profile_body_key(*, organisation_id: int) -> str:
    """The cache key of the organisation's body as of now; new tokens are stored for
    versions the cache does not hold (first visit, or evicted)."""
    keys = [ALL_KEY, _version_key(organisation_id)]
    found = cache.get_many(keys)
    missing = {key: uuid.uuid4().hex for key in keys if key not in found}
    if missing:
        # add, not set: a version renewed by a concurrent change wins.
        for key, token in missing.items():
            if not cache.add(key, token, None):
                token = cache.get(key) or token
            found[key] = token
    today = timezone.localdate().isoformat()
    return f"profile:{organisation_id}:{today}:{found[ALL_KEY]}:{found[keys[1]]}"


def profile_body_get(*, key: str) -> str | None:
    return cache.get(key)


def profile_body_set(*, key: str, body: str) -> None:
    cache.set(key, body, BODY_TIMEOUT)


def profile_changed(*, organisation_id: int | None) -> None:
    """Renew the organisation's version once the current transaction commits."""
    if organisation_id is None:
        return
    transaction.on_commit(lambda: cache.set(_version_key(organisation_id), uuid.uuid4().hex, None))


def profiles_all_changed() -> None:
    """Renew every profile's version once the current transaction commits."""
    transaction.on_commit(lambda: cache.set(ALL_KEY, uuid.uuid4().hex, None))


def fill_visitor_parts(
    body: str,
    *,
    shortlist: set[int],
    csrf_token: str,
    action_url: str,
    next_path: str,
    service_names: dict[int, str],
    may_review_html: str,
) -> str:
    """The cached body with this visitor's shortlist buttons and review link."""

    def replace(match: re.Match) -> str:
        if match.group(2) is None:
            return may_review_html
        service_id = int(match.group(2))
        on_list = service_id in shortlist
        return format_html(
            '<form method="post" action="{}" class="app-print-hide">'
            '<input type="hidden" name="csrfmiddlewaretoken" value="{}">\n'
            '    <input type="hidden" name="service" value="{}">\n'
            '    <input type="hidden" name="next" value="{}">\n'
            '    <input type="hidden" name="action" value="{}">\n'
            '    <button type="submit" class="govuk-button govuk-button--secondary '
            'govuk-!-margin-bottom-0" data-module="govuk-button">{}<span '
            'class="govuk-visually-hidden">: {}</span></button>\n  </form>',
            action_url,
            csrf_token,
            service_id,
            next_path,
            "remove" if on_list else "add",
            "Remove from shortlist" if on_list else "Add to shortlist",
            service_names.get(service_id, ""),
        )

    return _MARKER.sub(replace, body)


# --- What changes a profile ---------------------------------------------------


def _organisation_of_service(service_id: int | None) -> int | None:
    from marketplace.providers.models import Service

    if service_id is None:
        return None
    return Service.objects.filter(pk=service_id).values_list("organisation_id", flat=True).first()


def _on_organisation(sender, instance, **kwargs):
    profile_changed(organisation_id=instance.pk)


def _on_organisation_field(sender, instance, **kwargs):
    profile_changed(organisation_id=instance.organisation_id)


def _on_service_child(sender, instance, **kwargs):
    profile_changed(organisation_id=_organisation_of_service(instance.service_id))


def _on_award(sender, instance, **kwargs):
    from commissioning.grants.models import Application

    profile_changed(
        organisation_id=Application.objects.filter(pk=instance.application_id)
        .values_list("organisation_id", flat=True)
        .first()
    )


def _on_everything(sender, instance, **kwargs):
    profiles_all_changed()


def connect_signals() -> None:
    """Called from SearchConfig.ready()."""
    from commissioning.assessments.models import Assessment, FrameworkVersion
    from commissioning.grants.models import Application, Award, Fund, Round
    from marketplace.providers.models import (
        CostOption,
        Organisation,
        RegularSchedule,
        Service,
        ServiceAccessibility,
        ServiceArea,
        ServiceCareGroup,
        ServiceLanguage,
        ServiceLocation,
    )
    from marketplace.reviews.models import OrganisationRating, Review

    receivers = [
        (_on_organisation, [Organisation]),
        (_on_organisation_field, [Service, Review, Assessment, Application]),
        (
            _on_service_child,
            [
                ServiceCareGroup,
                CostOption,
                ServiceArea,
                ServiceLocation,
                RegularSchedule,
                ServiceLanguage,
                ServiceAccessibility,
            ],
        ),
        (_on_award, [Award]),
        (_on_everything, [Fund, Round, FrameworkVersion]),
    ]
    for receiver, models in receivers:
        for model in models:
            uid = f"profile-cache:{receiver.__name__}:{model._meta.label}"
            post_save.connect(receiver, sender=model, dispatch_uid=uid, weak=False)
            post_delete.connect(receiver, sender=model, dispatch_uid=uid, weak=False)
    # Rating rows: saved one by one when reviews change; the nightly rebuild deletes
    # and bulk-creates them all and calls profiles_all_changed itself (no per-row
    # delete receiver, so that delete stays one statement).
    post_save.connect(
        _on_organisation_field,
        sender=OrganisationRating,
        dispatch_uid="profile-cache:rating",
        weak=False,
    )
