"""The provider profile's person-independent body, cached per organisation.

A profile costs most of its CPU rendering every service of a provider, and
almost nothing on it depends on who is looking. The body (organisation header,
services, assessment status, Innovation Fund projects, the first page of
reviews) is rendered once and kept in Django's cache (Redis when REDIS_URL is
set, local memory otherwise) under

    profile:<organisation id>:<all-profiles version>:<organisation version>

The organisation version is a fresh token written after any transaction that
changes something the profile shows commits (signal receivers below:
organisation, service and its child rows, reviews, rating rows, assessments,
grant applications and awards). The all-profiles version is renewed by
writes that touch many organisations without per-row signals
(``profiles_all_changed``: the rating rebuild, fund/round/framework renames).
What the body shows that changes with time alone has a moment of its own: a body
stops being served (and expires from the cache) at the first moment one of its
services becomes "May be out of date" or one of its Innovation Fund projects turns
"In progress" or "Completed" (midnight, local time) (``expires``). So no date is
part of the key, and bodies do not all go cold together at midnight (they did
while the day was part of the key: ~10,000 profiles re-rendered by the beat
catch-up, 1,000 a minute, with first visits in between paying for a render).

The version is read before the database, so a render that raced a change is
stored under the old version and never served after it. Concurrent first visits to
one version render it once (``profile_body_claim``: a short lock in the cache; the
other visitors wait up to a second for that body, then render it themselves). The per-visitor parts
(shortlist buttons with the CSRF token, "Write a review") are left as markers
in the cached text and filled in per request (``fill_visitor_parts``). Only the
public view of a published organisation, with no query string, reads or
writes the cache: drafts, previews and other review pages are rendered fresh.

Visitors should not pay for the render. When a transaction that changed an
organisation commits, its new version is written and the body is rendered
under it straight away (``profile_warm``: a Celery task on the worker, or
in-process at commit on the embedded default), once per organisation however
many of its rows changed. A new all-profiles version queues every published
organisation on the worker (in-process, the embedded default leaves them to their
next visit: rendering them all would hold up the change). ``profile:have:<id>`` records which key an organisation's body
was last stored under, so ``profiles_warm_missing`` (the beat catch-up, the
``profiles_warm`` command) finds the organisations whose current version is
not cached (never visited, expired, evicted) without reading any body.
"""

import logging
import math
import re
import threading
import time
import uuid
from datetime import datetime
from functools import cache as memoize

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.utils import timezone

from .presenters import shortlist_form_html

logger = logging.getLogger(__name__)

BODY_TIMEOUT = 60 * 60 * 24
# Concurrent first visits to a profile: one renders (holding the lock at most this long)
# and the others wait at most RENDER_WAIT seconds for its body before rendering it too.
RENDER_LOCK_TIMEOUT = 10
RENDER_WAIT = 1.0
ALL_KEY = "profile:all"
_MARKER = re.compile(r"<!--scc:(shortlist:(\d+)|may-review)-->")


def _version_key(organisation_id: int) -> str:
    return f"profile:v:{organisation_id}"


def _have_key(organisation_id: int) -> str:
    return f"profile:have:{organisation_id}"


def _body_key(organisation_id: int, all_version: str, version: str) -> str:
    return f"profile:{organisation_id}:{all_version}:{version}"


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
    return _body_key(organisation_id, found[ALL_KEY], found[keys[1]])


def profile_body_get(*, key: str) -> dict | None:
    """The body stored under ``key``, unless one of its services has become "May be out
    of date" since it was rendered (its ``expires`` moment has passed)."""
    body = cache.get(key)
    if body is not None and body.get("expires") is not None and _now() >= body["expires"]:
        return None
    return body


def _now() -> float:
    return timezone.now().timestamp()


def _lock_key(key: str) -> str:
    return f"{key}:rendering"


def profile_body_claim(*, key: str) -> dict | None:
    """The body stored under ``key``; or None when the caller is to render it.

    Single flight: the first caller to find it missing takes a short render lock and
    gets None; the others poll the cache for up to RENDER_WAIT seconds for that render,
    then (the lock holder slow, or gone without storing) get None and render it
    themselves, so a visitor never waits long on another's render.
    """
    body = profile_body_get(key=key)
    if body is not None or cache.add(_lock_key(key), 1, RENDER_LOCK_TIMEOUT):
        return body
    deadline = time.monotonic() + RENDER_WAIT
    delay = 0.005
    while time.monotonic() < deadline:
        time.sleep(delay)
        delay = min(delay * 2, 0.04)
        body = profile_body_get(key=key)
        if body is not None:
            return body
    return None


def profile_body_set(*, key: str, body: dict, organisation_id: int) -> None:
    """Store the body (and which key it is under) until the end of BODY_TIMEOUT or the
    moment one of its services becomes "May be out of date", whichever is first, and
    release the render lock."""
    timeout = BODY_TIMEOUT
    if body.get("expires") is not None:
        timeout = max(1, min(timeout, math.ceil(body["expires"] - _now())))
    cache.set_many({key: body, _have_key(organisation_id): key}, timeout)
    cache.delete(_lock_key(key))


def profile_body_cached(*, organisation) -> dict:
    """The organisation's cached body, rendered and stored first if it is not cached
    under its current version (one render at a time per version: profile_body_claim)."""
    key = profile_body_key(organisation_id=organisation.pk)
    body = profile_body_claim(key=key)
    if body is None:
        try:
            body = profile_body_render(organisation=organisation)
        except BaseException:
            cache.delete(_lock_key(key))
            raise
        profile_body_set(key=key, body=body, organisation_id=organisation.pk)
    return body


# --- Rendering the body ---------------------------------------------------------


@memoize
def optional_includes(*names: str) -> tuple[str, ...]:
    """Those of the templates ``names`` that installed apps give (fixed for a process's life)."""
    found = []
    for name in names:
        try:
            get_template(name)
        except TemplateDoesNotExist:
            continue
        found.append(name)
    return tuple(found)


def profile_body_render(*, organisation, request: HttpRequest | None = None) -> dict:
    """The profile's person-independent body with per-visitor markers, the names of its
    services (for the shortlist buttons' hidden text) and ``expires``, the moment (epoch
    seconds) one of its services becomes "May be out of date" or one of its Innovation
    Fund projects changes status, or None.

    ``organisation`` is a published organisation, loaded by
    search.profile_html.profile_rows_load (services, their lists, rating row, assessment,
    projects and first reviews in one query) unless it has been already. Without
    ``request`` (the cached body; a background warm) the first page of reviews is
    written: nothing about a visitor can reach the text. With one (another page of
    reviews, never cached) its query string picks the page and builds the links.
    """
    from .profile_html import (
        profile_body_html,
        profile_rows_load,
        profile_sections,
        review_row,
        stale_at,
    )

    if not hasattr(organisation, "profile_services"):
        # A change since the caller read it (even an unpublication) has renewed the
        # version this body is stored under, so it is never served after that change.
        profile_rows_load([organisation])
    services = organisation.profile_services
    pages = {}
    if request is not None and "reviews" in profile_sections():
        from cms.templatetags.govuk import query_link_maker
        from marketplace.reviews.selectors import reviews_for_profile

        reviews = reviews_for_profile(
            organisation=organisation,
            page=request.GET.get("reviews_page") or 1,
            defer_may_review=True,
        )
        pages = {
            "reviews": [review_row(review) for review in reviews.page],
            "page_number": reviews.page.number,
            "num_pages": reviews.page.paginator.num_pages,
            "page_link": query_link_maker(request.GET, "reviews_page"),
        }
    projects = getattr(organisation, "profile_projects", [])
    expires = min(
        (
            moment
            for moment in (stale_at(services), _first_project_change(projects))
            if moment is not None
        ),
        default=None,
    )
    return {
        "html": profile_body_html(organisation, markers=_marker_html, **pages),
        "service_names": {service["pk"]: service["name"] for service in services},
        "expires": expires.timestamp() if expires else None,
    }


def _first_project_change(projects: list[dict]) -> datetime | None:
    """The first midnight (local time) at which one of ``projects`` changes status."""
    days = [row["status_changes_on"] for row in projects if row.get("status_changes_on")]
    if not days:
        return None
    return timezone.make_aware(datetime.combine(min(days), datetime.min.time()))


def _marker_html(service_id: int) -> str:
    return shortlist_marker(service_id)


def profile_body_warm(*, organisation_id: int) -> bool:
    """Render and store the organisation's body under its current version, unless it is
    already stored there or the organisation is not published. True if it rendered."""
    return profiles_warm_these(organisation_ids=[organisation_id]) == 1


def profiles_warm_these(*, organisation_ids: list[int], batch_size: int = 100) -> int:
    """Render and store the bodies of those of ``organisation_ids`` that are published and
    not stored under their current version; returns how many were rendered.

    A batch of organisations shares one query for their services, related lists and
    rating rows. Each version is read before the
    database, as on a visit: a render that raced a change is stored under the old
    version and never served after it.
    """
    from .profile_html import organisations_for_profiles

    rendered = 0
    for start in range(0, len(organisation_ids), batch_size):
        chunk = organisation_ids[start : start + batch_size]
        keys = {pk: profile_body_key(organisation_id=pk) for pk in chunk}
        stored = cache.get_many([_have_key(pk) for pk in chunk])
        todo = [pk for pk in chunk if stored.get(_have_key(pk)) != keys[pk]]
        if not todo:
            continue
        for organisation in organisations_for_profiles(organisation_ids=todo):
            profile_body_set(
                key=keys[organisation.pk],
                body=profile_body_render(organisation=organisation),
                organisation_id=organisation.pk,
            )
            rendered += 1
    return rendered


def profiles_not_warm(*, organisation_ids: list[int]) -> list[int]:
    """Those of ``organisation_ids`` whose body is not stored under their current version
    (two cache reads per 500 organisations; no body is read)."""
    missing = []
    for start in range(0, len(organisation_ids), 500):
        chunk = organisation_ids[start : start + 500]
        versions = cache.get_many([ALL_KEY, *(_version_key(pk) for pk in chunk)])
        stored = cache.get_many([_have_key(pk) for pk in chunk])
        all_version = versions.get(ALL_KEY)
        for pk in chunk:
            version = versions.get(_version_key(pk))
            if (
                all_version is None
                or version is None
                or stored.get(_have_key(pk)) != _body_key(pk, all_version, version)
            ):
                missing.append(pk)
    return missing


def profiles_warm_missing(*, limit: int | None = None) -> int:
    """Warm every published organisation (at most ``limit``) whose current version is not
    cached: after an all-profiles renewal, an expiry, an eviction or a lost task.
    Returns how many bodies were rendered."""
    from marketplace.providers.models import Organisation

    ids = list(Organisation.objects.published().order_by("pk").values_list("pk", flat=True))
    return profiles_warm_these(organisation_ids=profiles_not_warm(organisation_ids=ids)[:limit])


# --- Renewing versions after commit -----------------------------------------------

# The new version token of each organisation changed in this thread's open transaction:
# every row change of one organisation in a transaction renews it to the same token, and
# the first of its after-commit callbacks queues the one warm-up. A token left here by a
# rolled-back transaction was never written, so the next transaction may still use it.
_renewing = threading.local()


def _tokens() -> dict:
    tokens = getattr(_renewing, "tokens", None)
    if tokens is None:
        tokens = _renewing.tokens = {}
    return tokens


def _renew_and_warm(version_key: str, token: str, warm) -> None:
    cache.set(version_key, token, None)
    tokens = _tokens()
    if tokens.get(version_key) == token:
        del tokens[version_key]
        try:
            warm()
        except Exception:  # a profile renders on its next visit instead
            logger.exception("Could not queue the profile warm-up after %s changed", version_key)


def profile_changed(*, organisation_id: int | None) -> None:
    """Renew the organisation's version once the current transaction commits, and render
    its body under the new version in the background."""
    if organisation_id is None:
        return
    from .tasks import profiles_warm

    key = _version_key(organisation_id)
    token = _tokens().setdefault(key, uuid.uuid4().hex)
    transaction.on_commit(
        lambda: _renew_and_warm(key, token, lambda: profiles_warm.delay([organisation_id]))
    )


def profiles_all_changed() -> None:
    """Renew every profile's version once the current transaction commits, and render
    every published organisation's body in the background (on a worker)."""
    token = _tokens().setdefault(ALL_KEY, uuid.uuid4().hex)
    transaction.on_commit(lambda: _renew_and_warm(ALL_KEY, token, _warm_all))


def _warm_all() -> None:
    from django.conf import settings

    from .tasks import profiles_warm_all

    # Rendering every profile takes seconds to minutes: a worker's job. In-process (the
    # embedded default, no worker) it would hold up the change that caused it, so there
    # each profile renders on its next visit, or through manage.py profiles_warm.
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        profiles_warm_all.delay()


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
        return shortlist_form_html(
            service_id=service_id,
            service_name=service_names.get(service_id, ""),
            on_list=service_id in shortlist,
            csrf_token=csrf_token,
            action_url=action_url,
            next_path=next_path,
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
