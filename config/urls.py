from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from config.health import healthz

handler403 = "cms.views.permission_denied"
handler404 = "cms.views.page_not_found"
handler500 = "cms.views.server_error"

# The Django admin is for administrators only; everyone else uses Wagtail's.
admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("django-admin/", admin.site.urls),
    path("admin/", include(wagtailadmin_urls)),
    path("documents/", include(wagtaildocs_urls)),
    # Django tries each pattern in turn, so the busiest come first: search and provider
    # profiles, then the card webhook (/find/ was the 120th pattern tried, ~75 us). No
    # two apps' patterns match the same path (tests/config/test_urls.py), so the order
    # changes nothing else.
    path("", include("search.urls")),
    path("", include("marketplace.budgets.urls")),
    path("", include("marketplace.accounts.urls")),
    path("", include("cms.urls")),
    path("", include("marketplace.providers.urls")),
    path("", include("marketplace.reviews.urls")),
    path("", include("marketplace.payments.urls")),
    path("", include("commissioning.demand.urls")),
    path("", include("commissioning.monitoring.urls")),
    path("", include("commissioning.grants.urls")),
    path("", include("commissioning.assessments.urls")),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Wagtail's page tree answers everything else.
urlpatterns.append(path("", include(wagtail_urls)))
