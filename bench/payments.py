"""Payments and monitoring benchmark: card-merchant matching, the daily monitoring run, paying an invoice.

    python -m bench.payments --scale N [--base-url http://127.0.0.1:8765]

Needs the same DATABASE_URL as the server (demo data loaded). Measured in
process, because these are the costs that grow with data, not with HTTP:

  merchant_match           one card merchant against the provider index
                           (the real index, and a synthetic one of 2,000 x scale providers)
  purchase_record (card)   record + match one card purchase (rolled back)
  monitoring_rules_run     every rule over every open budget (rolled back)
  payment_create           one marketplace payment: plan check, ledger, purchase (rolled back;
                           the Stripe transfer is queued after commit, so not sent)

With ``--base-url`` it also drives GET /monitoring/ and /provider/remittances/
over HTTP as a signed-in monitoring officer and provider (sessions made here,
in the server's database).
"""

import argparse
import json
import os
import time
from datetime import date

from bench.load import summary_ms

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")


class _Rollback(Exception):
    pass


def _timings(function, *, repeat: int, rollback: bool = False) -> dict:
    from django.db import transaction

    samples = []
    for index in range(repeat):
        started = time.perf_counter()
        if rollback:
            try:
                with transaction.atomic():
                    function(index)
                    raise _Rollback
            except _Rollback:
                pass
        else:
            function(index)
        samples.append((time.perf_counter() - started) * 1000)
    return {"runs": repeat, **summary_ms(samples, digits=3), "max_ms": round(max(samples), 3)}


NAMES = ["Bright", "Care", "Home", "Lunch", "Club", "Day", "Centre", "Support", "Finchley", "Barnet",
         "Hendon", "Friends", "Community", "Living", "Helping", "Hands", "Options", "Trust", "Active", "Together"]  # fmt: skip


def synthetic_index(count: int, rng):
    from marketplace.payments.matching import MerchantIndex, _Provider, merchant_key

    providers = []
    for pk in range(1, count + 1):
        name = " ".join(rng.sample(NAMES, 3)) + f" {pk}"
        providers.append(
            _Provider(
                pk=pk, key=merchant_key(name), postcodes={"N3 1XP"}, districts={"N3"}, categories={}
            )
        )
    return MerchantIndex(providers)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--base-url", default="")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args(argv)

    import random

    import django

    django.setup()
    from django.db import connection

    from commissioning.monitoring.services import monitoring_rules_run
    from marketplace.accounts.models import BudgetHolder
    from marketplace.payments.matching import merchant_index, merchant_match
    from marketplace.payments.models import Channel, Invoice, InvoiceStatus, Purchase
    from marketplace.payments.services import payment_create, purchase_record

    rng = random.Random(7)
    results = {"database": connection.vendor, "scale": args.scale}
    merchants = list(
        Purchase.objects.filter(channel__in=[Channel.CARD, Channel.CARD_STATEMENT])
        .exclude(merchant_name="")
        .values_list("merchant_name", "merchant_postcode", "merchant_category_code")
        .distinct()[:500]
    ) or [("SQ *BRIGHT CARE HOME CA", "N3 1XP", "8099")]
    results["purchases"] = Purchase.objects.count()

    index = merchant_index()
    results["merchant_match (demo index)"] = _timings(
        lambda i: merchant_match(
            merchant_name=merchants[i % len(merchants)][0],
            merchant_postcode=merchants[i % len(merchants)][1],
            index=index,
        ),
        repeat=args.repeat,
    )
    big = synthetic_index(2_000 * args.scale, rng)
    results[f"merchant_match ({2_000 * args.scale} providers)"] = _timings(
        lambda i: big.best("finchley lunch club", "N3 1XP"), repeat=args.repeat
    )
    started = time.perf_counter()
    synthetic_index(2_000 * args.scale, rng)
    results["index build (s)"] = round(time.perf_counter() - started, 3)

    holder = BudgetHolder.objects.filter(personal_budgets__isnull=False).first()
    if holder is not None:
        results["purchase_record (card, matched)"] = _timings(
            lambda i: purchase_record(
                budget_holder=holder,
                amount_pence=1234,
                occurred_on=date.today(),
                channel=Channel.CARD_STATEMENT,
                source_reference=f"bench-{i}",
                merchant_name=merchants[i % len(merchants)][0],
                merchant_category_code=merchants[i % len(merchants)][2],
            ),
            repeat=args.repeat,
            rollback=True,
        )
    results["monitoring_rules_run (all budgets)"] = _timings(
        lambda i: monitoring_rules_run(), repeat=3, rollback=True
    )
    invoices = list(
        Invoice.objects.filter(status=InvoiceStatus.UNPAID).select_related("budget_holder")[:50]
    )
    if invoices:
        results["payment_create"] = _timings(
            lambda i: _try_pay(payment_create, invoices[i % len(invoices)], i),
            repeat=min(args.repeat, 100),
            rollback=True,
        )
    if args.base_url:
        results.update(_http(args.base_url))
    print(json.dumps(results, indent=2))


def _try_pay(payment_create, invoice, index):
    from contextlib import suppress

    from marketplace.payments.services import PaymentError

    with suppress(PaymentError):
        payment_create(invoice=invoice, paid_by=None, idempotency_key=f"bench-{index}")


def _http(base_url: str) -> dict:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from bench.load import Request, report, run_load
    from marketplace.accounts.models import User

    def session_for(user):
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device:
            store[DEVICE_ID_SESSION_KEY] = device.persistent_id
        store.save()
        return {"Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}"}

    out = {}
    officer = User.objects.filter(groups__name="Monitoring officers").first()
    provider = User.objects.filter(provider_memberships__isnull=False).first()
    runs = []
    if officer:
        runs.append(
            run_load(
                "GET /monitoring/",
                base_url,
                [Request("/monitoring/", headers=session_for(officer))],
                concurrency=4,
                duration_s=10,
            )
        )
    if provider:
        runs.append(
            run_load(
                "GET /provider/remittances/",
                base_url,
                [Request("/provider/remittances/", headers=session_for(provider))],
                concurrency=4,
                duration_s=10,
            )
        )
    print(report(runs, title="Payments and monitoring pages"))
    for result in runs:
        out[result.name] = result.as_row()
    return out


if __name__ == "__main__":
    main()
