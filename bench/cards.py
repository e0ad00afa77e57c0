"""Cards benchmark: statement import rate beside a bare PostgreSQL COPY, and real-time
authorisation decisions over HTTP at a fixed rate.

    python -m bench.cards --scale N [--base-url http://127.0.0.1:8765] [--rate 200]

Needs the same DATABASE_URL as the server, and the server's STRIPE_WEBHOOK_SECRET in
the environment (events are signed with it, as Stripe signs them).

  statement import         20,000 x scale lines (default scheme) through
                           statement_import: parse, validate, ledger entries,
                           card transactions, purchases, demand rollups, the
                           deferred foreign-key checks a commit would run; rolled back
  bare COPY                the same CSV file COPied into an unindexed temporary table
                           (PostgreSQL only): the floor no import can beat
  authorisation            signed issuing_authorization.request events POSTed to
                           /webhooks/stripe/ at --rate per second (open model, so
                           queueing counts), each a fresh authorisation on one of 50 cards
"""

import argparse
import io
import json
import os
import time
from datetime import timedelta
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")


class _Rollback(Exception):
    pass


def _setup_cards(count: int, scheme: str, prefix: str):
    from django.utils import timezone

    from marketplace.accounts.models import BudgetHolder, CareGroup
    from marketplace.budgets.models import Card
    from marketplace.budgets.services import budget_create, budget_loads_post_due

    today = timezone.localdate()
    cards = []
    for number in range(count):
        holder, _ = BudgetHolder.objects.get_or_create(
            council_reference=f"BENCH-{prefix}-{number:05d}",
            defaults={
                "full_name": f"Bench Person {number}",
                "date_of_birth": today - timedelta(days=365 * 40),
                "care_group": CareGroup.PHYSICAL_SENSORY,
                "postcode": "N12 8QJ",
            },
        )
        card = Card.objects.filter(scheme=scheme, reference=f"{prefix}-{number:05d}").first()
        if card is None:
            budget = budget_create(
                budget_holder=holder,
                annual_amount_pence=100_000_000,
                starts_on=today - timedelta(days=30),
                ends_on=today + timedelta(days=335),
            )
            budget_loads_post_due(on=today, budgets=[budget])
            card = Card.objects.create(
                budget=budget,
                scheme=scheme,
                reference=f"{prefix}-{number:05d}",
                stripe_cardholder_id="ich_bench",
            )
        cards.append(card)
    return cards


def _statement_csv(cards, rows: int) -> str:
    merchants = [
        ("Tesco Express", "N12 0DR", "5411"),
        ("Barnet Taxis", "EN5 4AA", "4121"),
        ("Finchley Leisure Centre", "N12 0GA", "7941"),
        ("Boots Pharmacy", "N12 8NP", "5912"),
        ("Greggs", "N3 1DH", "5814"),
    ]
    stamp = int(time.time())
    buffer = io.StringIO()
    buffer.write("transaction_id,card_reference,date,merchant_name,merchant_postcode,mcc,amount\n")
    for number in range(rows):
        name, postcode, mcc = merchants[number % len(merchants)]
        card = cards[number % len(cards)]
        buffer.write(
            f"B{stamp}-{number},{card.reference},2026-0{1 + number % 9}-1{number % 10},{name},{postcode},{mcc},{1 + number % 40}.{number % 100:02d}\n"
        )
    return buffer.getvalue()


def bench_import(scale: int) -> dict:
    from django.db import connection, transaction

    from marketplace.budgets.services import statement_import

    cards = _setup_cards(200, "default", "BENCHCARD")
    rows = 20_000 * scale
    text = _statement_csv(cards, rows)
    started = time.perf_counter()
    try:
        with transaction.atomic():
            statement_import(text=text, scheme_name="default", filename="bench.csv")
            if connection.vendor == "postgresql":
                # Foreign keys are checked at commit; count that work, then roll back.
                with connection.cursor() as cursor:
                    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            import_s = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    result = {
        "rows": rows,
        "import_s": round(import_s, 3),
        "import_rows_per_s": round(rows / import_s),
    }
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMPORARY TABLE bench_copy (transaction_id text, card_reference text, date date, "
                "merchant_name text, merchant_postcode text, mcc text, amount numeric) ON COMMIT DROP"
            )
            started = time.perf_counter()
            with cursor.cursor.copy(
                "COPY bench_copy FROM STDIN WITH (FORMAT csv, HEADER true)"
            ) as copy:
                copy.write(text.encode())
            copy_s = time.perf_counter() - started
        result.update(copy_s=round(copy_s, 3), copy_rows_per_s=round(rows / copy_s))
        result["import_share_of_copy"] = round(
            result["import_rows_per_s"] / result["copy_rows_per_s"], 3
        )
    return result


def bench_authorisations(base_url: str, rate: float, duration: float, secret: str) -> dict:
    from bench.load import Request, report, run_load
    from marketplace.budgets.models import CardScheme
    from marketplace.budgets.stripe_events import (
        authorization_object,
        encode,
        event_payload,
        merchant_data,
        signature_header,
    )

    cards = _setup_cards(50, CardScheme.STRIPE, "ic_bench")
    merchant = merchant_data(
        name="Thames Day Trips", category="tourist_attractions_and_exhibits", category_code="7991"
    )
    blocked = merchant_data(
        name="Lucky Star Bets", category="betting_casino_gambling", category_code="7995"
    )
    stamp = int(time.time())

    def make(index: int) -> Request:
        card = cards[index % len(cards)]
        obj = authorization_object(
            card_id=card.reference,
            cardholder_id="ich_bench",
            amount_pence=100 + index % 900,
            merchant=blocked if index % 10 == 0 else merchant,
            authorization_id=f"iauth_bench_{stamp}_{index}",
        )
        body = encode(
            event_payload(
                "issuing_authorization.request", obj, event_id=f"evt_bench_{stamp}_{index}"
            )
        )
        return Request(
            "/webhooks/stripe/",
            method="POST",
            body=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": signature_header(body, secret),
            },
        )

    result = run_load(
        f"POST /webhooks/stripe/ authorisation @{rate:g}/s",
        base_url,
        make,
        concurrency=32,
        duration_s=duration,
        rate=rate,
        warmup=20,
    )
    report([result], title="Card authorisation decisions")
    return result.as_row()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from django.conf import settings

    figures = {"statement_import": bench_import(args.scale)}
    print("Statement import:", json.dumps(figures["statement_import"]), flush=True)
    if args.base_url:
        secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            print("Set STRIPE_WEBHOOK_SECRET (the server's) to measure authorisations.")
            return 1
        figures["authorisation"] = bench_authorisations(
            args.base_url, args.rate, args.duration, secret
        )
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
