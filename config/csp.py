"""django-csp's middleware with the settings-only policy built once per settings object.

django-csp 4 rebuilds the header from the settings on every response (about 0.25 ms).
When a response carries no per-view override (``@csp_update``/``@csp_replace``/
``@csp_override``), the policy depends only on the settings and on whether the page used
its nonce, so it is built once with a placeholder and the per-request nonce is put in
its place. Responses with overrides go through django-csp unchanged.
"""

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy

from django.conf import settings

_PLACEHOLDER = "CSP-NONCE-PLACEHOLDER-3f0c1b"  # contains no character a nonce has ('-')
_OVERRIDES = ("_csp_config", "_csp_update", "_csp_replace")
_OVERRIDES_RO = ("_csp_config_ro", "_csp_update_ro", "_csp_replace_ro")


class CachedCSPMiddleware(CSPMiddleware):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._cache = {}

    def _cached(self, report_only, nonce):
        source = getattr(
            settings,
            "CONTENT_SECURITY_POLICY_REPORT_ONLY" if report_only else "CONTENT_SECURITY_POLICY",
            None,
        )
        key = (report_only, nonce is not None)
        hit = self._cache.get(key)
        # Keyed on the settings object itself (kept referenced, so its id cannot be reused):
        # override_settings replaces it and the policy is rebuilt.
        if hit is None or hit[0] is not source:
            policy = build_policy(
                nonce=_PLACEHOLDER if nonce is not None else None, report_only=report_only
            )
            hit = (source, policy)
            self._cache[key] = hit
        policy = hit[1]
        return policy.replace(_PLACEHOLDER, nonce) if nonce is not None else policy

    def process_response(self, request, response):
        if any(hasattr(response, name) for name in _OVERRIDES + _OVERRIDES_RO):
            return super().process_response(request, response)
        # The same steps as CSPMiddleware.process_response, with the cached policies.
        if response.status_code in (500, 404) and settings.DEBUG:
            return response
        nonce = getattr(request, "_csp_nonce", None)
        for report_only, header, exempt, setting in (
            (False, HEADER, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
            (True, HEADER_REPORT_ONLY, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
        ):
            policy = self._cached(report_only, nonce)
            if not policy or getattr(response, exempt, False) is not False or header in response:
                continue
            prefixes = (getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[header] = policy
        if getattr(request, "_csp_nonce", None) is None:
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
