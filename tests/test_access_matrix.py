"""Across the whole platform: each role reaches its own work and nothing else.

Record-level checks (another person's budget, another provider's invoice)
live beside each area's tests; this matrix covers every area's entry points.
"""

import pytest

from marketplace.accounts.roles import Role

pytestmark = pytest.mark.django_db

B, P, S = Role.BUDGET_HOLDER, Role.PROXY, Role.PROVIDER_STAFF
C, G, M = Role.COMMISSIONER, Role.GRANT_OFFICER, Role.MONITORING_OFFICER
E, A = Role.CMS_EDITOR, Role.ADMINISTRATOR

# path -> the roles that may open it. Everyone else signed in gets 403;
# signed-out visitors are sent to sign in (or get 403 from an API).
ENTRY_POINTS = {
    "/commissioning/": {C},
    "/commissioning/market-position-statement/": {C},
    "/api/commissioning/demand?group_by=category": {C},
    "/monitoring/": {M},
    "/monitoring/matching/": {M},
    "/monitoring/settings/": {M},
    "/monitoring/approvals/": {M},
    "/budgets/statements/import/": {M},
    "/budgets/manage/": {M},
    "/grants/manage/": {G},
    "/grants/manage/overdue/": {G},
    "/grants/reviews/": {G},
    "/assessments/review/": {G},
    "/grants/": {S},
    "/assessments/": {S},
    "/provider/invoices/": {S},
    "/provider/remittances/": {S},
    "/provider/reviews/": {S},
    "/reviews/moderate/": {E, A},
}
# Grant officers arriving at the providers' pages are sent on to their own.
REDIRECTED = {("/grants/", G): "/grants/manage/", ("/assessments/", G): "/assessments/review/"}
# Open to everyone signed in: they show only the person's own records.
SIGNED_IN = ["/account/", "/people/", "/provider/"]


@pytest.mark.parametrize("role", list(Role))
def test_each_role_reaches_exactly_its_own_work(client_for, role):
    client, _ = client_for(role)
    wrong = {}
    for path, allowed in ENTRY_POINTS.items():
        response = client.get(path)
        if (path, role) in REDIRECTED:
            if response.status_code != 302 or response["Location"] != REDIRECTED[path, role]:
                wrong[path] = (response.status_code, REDIRECTED[path, role])
            continue
        expected = 200 if role in allowed else 403
        if response.status_code != expected:
            wrong[path] = (response.status_code, expected)
    for path in SIGNED_IN:
        status = client.get(path).status_code
        if status != 200:
            wrong[path] = (status, 200)
    assert not wrong, f"{role}: {{path: (got, expected)}} = {wrong}"


def test_signed_out_visitors_reach_none_of_it(client):
    for path in [*ENTRY_POINTS, *SIGNED_IN]:
        response = client.get(path)
        if path.startswith("/api/"):
            assert response.status_code == 403, path
        else:
            assert response.status_code == 302, path
            assert response["Location"].startswith("/account/sign-in/"), path
