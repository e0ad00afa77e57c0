from django.shortcuts import render
from django.views.generic import TemplateView


class CookiesView(TemplateView):
    template_name = "cms/cookies.html"


class AccessibilityStatementView(TemplateView):
    template_name = "cms/accessibility_statement.html"


class PrivacyNoticeView(TemplateView):
    template_name = "cms/privacy_notice.html"


class SignedOutView(TemplateView):
    template_name = "cms/signed_out.html"


def csrf_failure(request, reason=""):
    return render(request, "403_csrf.html", status=403)


def page_not_found(request, exception):
    return render(request, "404.html", status=404)


def permission_denied(request, exception):
    return render(request, "403.html", status=403)


def server_error(request):
    return render(request, "500.html", status=500)
