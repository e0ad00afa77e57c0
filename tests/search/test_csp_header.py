"""The cached CSP middleware writes exactly the header django-csp would write."""

from csp.decorators import csp_update
from csp.middleware import CSPMiddleware

from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from config.csp import CachedCSPMiddleware


def _run(middleware_class, view, use_nonce, nonce="abc+/123=="):
    def get_response(request):
        if use_nonce:
            request._csp_nonce = nonce
            str(request.csp_nonce)
        return view(request)

    request = RequestFactory().get("/find/")
    return middleware_class(get_response)(request)


def _plain(request):
    return HttpResponse("ok")


@csp_update({"img-src": ["https://example.org"]})
def _updated(request):
    return HttpResponse("ok")


def test_same_header_as_django_csp_with_and_without_nonce_and_with_overrides():
    for view in (_plain, _updated):
        for use_nonce in (True, False):
            cached = _run(CachedCSPMiddleware, view, use_nonce)
            plain = _run(CSPMiddleware, view, use_nonce)
            assert cached["Content-Security-Policy"] == plain["Content-Security-Policy"]
    with_nonce = _run(CachedCSPMiddleware, _plain, True, nonce="N0nce+/==")
    assert "'nonce-N0nce+/=='" in with_nonce["Content-Security-Policy"]
    assert "nonce-" not in _run(CachedCSPMiddleware, _plain, False)["Content-Security-Policy"]


def test_nonce_is_per_response_and_settings_changes_rebuild():
    middleware = CachedCSPMiddleware(_plain)
    headers = []
    for nonce in ("one", "two"):
        request = RequestFactory().get("/find/")
        middleware.process_request(request)
        request._csp_nonce = nonce
        headers.append(middleware.process_response(request, HttpResponse("ok")))
    assert "'nonce-one'" in headers[0]["Content-Security-Policy"]
    assert "'nonce-two'" in headers[1]["Content-Security-Policy"]
    assert "nonce-one" not in headers[1]["Content-Security-Policy"]
    with override_settings(
        CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}},
        CONTENT_SECURITY_POLICY_REPORT_ONLY={"DIRECTIVES": {"img-src": ["'self'"]}},
    ):
        response = middleware.process_response(RequestFactory().get("/"), HttpResponse())
        expected = _run(CSPMiddleware, _plain, False)
        assert response["Content-Security-Policy"] == expected["Content-Security-Policy"]
        assert "default-src 'none'" in response["Content-Security-Policy"]
        assert (
            response["Content-Security-Policy-Report-Only"]
            == expected["Content-Security-Policy-Report-Only"]
        )
    response = middleware.process_response(RequestFactory().get("/"), HttpResponse())
    assert (
        response["Content-Security-Policy"]
        == _run(CSPMiddleware, _plain, False)["Content-Security-Policy"]
    )
    assert "Content-Security-Policy-Report-Only" not in response


def test_excluded_prefix_gets_no_header():
    response = CachedCSPMiddleware(_plain)(RequestFactory().get("/admin/"))
    assert "Content-Security-Policy" not in response
