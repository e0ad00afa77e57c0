"""Cards benchmark: real-time authorisation decisions over HTTP at a fixed arrival rate.
(The statement import, the other card channel, is bench/statements.py.)

One command, from the repository root (PostgreSQL in your own database, demo data loaded
with ``manage.py migrate && manage.py seed_demo``):

    DJANGO_SETTINGS_MODULE=config.settings.bench DATABASE_URL=postgres://.../scc_bench_cards \
    STRIPE_WEBHOOK_SECRET=whsec_bench_only \
    python -m bench.cards --serve [--rate 200] [--duration 60] [--cards 200] \
        [--workers 4] [--threads 2] [--json FILE]

``--serve`` starts gunicorn (config.settings.bench, ``--workers`` x ``--threads``, gthread)
on a free port for the run and stops it after; ``--base-url URL`` uses a running server
instead (bin/bench does that: ``bin/bench --only cards``); one of them is needed. The
server must have the same DATABASE_URL and STRIPE_WEBHOOK_SECRET (events are signed
with it, as Stripe signs them).

  authorisation            rate x duration issuing_authorization.request events, each
                           a fresh authorisation and event id, signed beforehand, spread
                           over --cards Stripe cards (1 in 10 at a betting shop, so
                           declined by the rules), POSTed to /webhooks/stripe/ at a
                           constant arrival rate (open model: latency counts from each
                           request's scheduled start, so queueing is not hidden). The
                           load driver is vegeta when it is installed (``go install
                           github.com/tsenart/vegeta/v12@v12.12.0``; found on PATH or in
                           ~/go/bin, or set VEGETA), else bench.load's open model. The
                           timed part holds ``flock /tmp/scc-bench.lock``. Reported:
                           p50/p95/p99/max, achieved rate, status codes, load average
                           before and after, the server's configuration, what was
                           decided (approved, declined by rule, declined for time), and
                           CPU per request of the gunicorn processes (with --serve) and
                           of this database's PostgreSQL backends (from /proc): figures
                           that do not depend on what else the machine is running.

Measured 2026-12-07 17:19 UTC (2 cores; load 3.1 from other sessions' work), on a fresh
database with seed_demo, ``--serve --rate 200 --duration 30``, vegeta v12.12.0, gunicorn
gthread 4 x 2: 6,000 decisions (5,400 approved, 600 declined by the blocked-category rule,
none for time), all 200; p50 2.69 ms, p95 6.39, p99 12.09, max 28.09; CPU per request:
server 1.69 ms, PostgreSQL 0.98 ms. Goal (p99 under 100 ms at 200 a second): met.
Through ``bin/bench --only cards`` (17:43-17:46 UTC, its own servers and seed_demo, gunicorn sync x 5
as bin/bench now runs it, 200/s for 60 s): 12,000 decisions, all 200; p50 3.44 ms, p95 5.06,
p99 7.13, max 17.74; PostgreSQL CPU 1.04 ms a request. The whole command took 3 min 16 s.
"""

import argparse
import contextlib
import io
import json
import os
import time
from datetime import timedelta
from pathlib import Path

from bench.load import cpu_seconds

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")


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


BENCH_LOCK = "/tmp/scc-bench.lock"


def _signed_requests(cards, count: int, secret: str, stamp: str) -> list[tuple[bytes, str]]:
    """``count`` distinct authorisation request events, each with its Stripe-Signature."""
    from marketplace.budgets.stripe_events import (
        authorization_object,
        encode,
        event_payload,
        merchant_data,
        signature_header,
    )

    merchant = merchant_data(
        name="Thames Day Trips", category="tourist_attractions_and_exhibits", category_code="7991"
    )
    blocked = merchant_data(
        name="Lucky Star Bets", category="betting_casino_gambling", category_code="7995"
    )
    signed = []
    for index in range(count):
        obj = authorization_object(
            card_id=cards[index % len(cards)].reference,
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
        signed.append((body, signature_header(body, secret)))
    return signed


def _vegeta() -> str | None:
    import shutil

    found = os.environ.get("VEGETA") or shutil.which("vegeta")
    home = Path.home() / "go" / "bin" / "vegeta"
    return found or (str(home) if home.exists() else None)


def _attack_vegeta(
    vegeta: str, base_url: str, signed, rate: float, duration: float, meter: "_CpuMeter"
) -> dict:
    import base64
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="bench_cards_") as folder:
        targets = Path(folder) / "targets.jsonl"
        with targets.open("w") as out:
            for body, signature in signed:
                target = {
                    "method": "POST",
                    "url": f"{base_url}/webhooks/stripe/",
                    "body": base64.b64encode(body).decode(),
                    "header": {
                        "Content-Type": ["application/json"],
                        "Stripe-Signature": [signature],
                    },
                }
                out.write(json.dumps(target) + "\n")
        results = Path(folder) / "results.bin"
        with meter:
            load_before = os.getloadavg()
            subprocess.run(
                [
                    vegeta,
                    "attack",
                    "-format=json",
                    f"-targets={targets}",
                    f"-rate={rate:g}/1s",
                    f"-duration={duration:g}s",
                    "-timeout=10s",
                    "-keepalive=true",
                    f"-output={results}",
                ],
                check=True,
            )
            load_after = os.getloadavg()
        report = json.loads(
            subprocess.run(
                [vegeta, "report", "-type=json", str(results)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
    latencies = report["latencies"]
    return {
        "driver": "vegeta v12 (open model, fixed rate)",
        "requests": report["requests"],
        "p50_ms": round(latencies["50th"] / 1e6, 2),
        "p95_ms": round(latencies["95th"] / 1e6, 2),
        "p99_ms": round(latencies["99th"] / 1e6, 2),
        "max_ms": round(latencies["max"] / 1e6, 2),
        "mean_ms": round(latencies["mean"] / 1e6, 2),
        "offered_rate": round(report["rate"], 1),
        "achieved_rps": round(report["throughput"], 1),
        "success_share": report["success"],
        "statuses": report["status_codes"],
        "errors": report.get("errors") or [],
        "load_before": load_before,
        "load_after": load_after,
    }


def _attack_python(
    base_url: str, signed, rate: float, duration: float, meter: "_CpuMeter | None" = None
) -> dict:
    import itertools

    from bench.load import Request, run_load

    # Warm-up requests come from the same stream: every event id is sent once.
    counter = itertools.count()

    def make(_index: int) -> Request:
        body, signature = signed[next(counter) % len(signed)]
        return Request(
            "/webhooks/stripe/",
            method="POST",
            body=body,
            headers={"Content-Type": "application/json", "Stripe-Signature": signature},
        )

    with meter or contextlib.nullcontext():
        load_before = os.getloadavg()
        result = run_load(
            f"POST /webhooks/stripe/ authorisation @{rate:g}/s",
            base_url,
            make,
            concurrency=64,
            duration_s=duration,
            rate=rate,
            warmup=0,
        )
        load_after = os.getloadavg()
    row = result.as_row()
    return {
        "driver": "bench.load open model (64 client threads)",
        "requests": row["requests"] + row["errors"],
        "p50_ms": row["p50_ms"],
        "p95_ms": row["p95_ms"],
        "p99_ms": row["p99_ms"],
        "max_ms": round(max(result.latencies_ms), 2) if result.latencies_ms else None,
        "mean_ms": row["mean_ms"],
        "offered_rate": rate,
        "achieved_rps": row["throughput_rps"],
        "success_share": round(row["requests"] / max(1, row["requests"] + row["errors"]), 4),
        "statuses": {str(code): count for code, count in result.statuses.items()},
        "errors": [],
        "load_before": load_before,
        "load_after": load_after,
    }


def _spent(started: dict[int, float], ended: dict[int, float]) -> float:
    # A process that started during the run counts from zero.
    return sum(seconds - started.get(pid, 0.0) for pid, seconds in ended.items())


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return found


def _database_backends() -> list[int]:
    """This database's PostgreSQL backends on this machine (their titles name the database)."""
    from django.db import connection

    title = f" {connection.settings_dict['NAME']} ".encode()
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:
            continue
        if text.startswith(b"postgres: ") and title in text:
            found.append(int(cmdline.parent.name))
    return found


class _CpuMeter:
    """CPU spent by the server's processes and its PostgreSQL backends during the timed run."""

    def __init__(self, server_pid: int | None):
        from django.db import connection

        self.server = [server_pid, *_children(server_pid)] if server_pid else []
        self.postgresql = connection.vendor == "postgresql"
        self.backends = []

    def __enter__(self):
        if self.postgresql:
            self.backends = _database_backends()
        self.started = (cpu_seconds(self.server), cpu_seconds(self.backends))
        return self

    def __exit__(self, *exc):
        backends = set(self.backends) | set(_database_backends() if self.postgresql else [])
        self.spent = (
            _spent(self.started[0], cpu_seconds(self.server)),
            _spent(self.started[1], cpu_seconds(backends)),
        )

    def per_request_ms(self, requests: int) -> dict:
        server, database = self.spent
        return {
            "server_cpu_ms_per_request": round(1000 * server / requests, 3)
            if self.server
            else None,
            "database_cpu_ms_per_request": round(1000 * database / requests, 3)
            if self.backends
            else None,
        }


class _bench_lock:
    """``flock /tmp/scc-bench.lock`` for the timed part: measurements never overlap."""

    def __enter__(self):
        import fcntl

        self.file = open(BENCH_LOCK, "a")  # noqa: SIM115 - held until __exit__
        started = time.perf_counter()
        fcntl.flock(self.file, fcntl.LOCK_EX)
        waited = time.perf_counter() - started
        if waited > 1:
            print(f"  (waited {waited:.0f} s for {BENCH_LOCK})", flush=True)
        return self

    def __exit__(self, *exc):
        import fcntl

        fcntl.flock(self.file, fcntl.LOCK_UN)
        self.file.close()


def _decisions(stamp: str) -> dict:
    from django.db.models import Count

    from marketplace.budgets.models import Authorization

    rows = (
        Authorization.objects.filter(stripe_authorization_id__startswith=f"iauth_bench_{stamp}_")
        .values("approved", "decline_reason")
        .annotate(count=Count("id"))
    )
    return {
        ("approved" if row["approved"] else f"declined:{row['decline_reason']}"): row["count"]
        for row in rows
    }


def bench_authorisations(
    base_url: str,
    rate: float,
    duration: float,
    secret: str,
    *,
    card_count: int = 200,
    server: str = "",
    server_pid: int | None = None,
) -> dict:
    from marketplace.budgets.models import CardScheme

    cards = _setup_cards(card_count, CardScheme.STRIPE, "ic_bench")
    stamp = str(int(time.time()))
    warm_stamp = f"{stamp}w"
    warm = _signed_requests(cards, 200, secret, warm_stamp)
    count = int(rate * duration) + 100
    signed = _signed_requests(cards, count, secret, stamp)
    vegeta = _vegeta()
    meter = _CpuMeter(server_pid)
    with _bench_lock():
        # Warm every worker's connection and caches with events that are not counted.
        _attack_python(base_url, warm, rate=50, duration=4)
        if vegeta:
            figures = _attack_vegeta(vegeta, base_url, signed, rate, duration, meter)
        else:
            figures = _attack_python(base_url, signed, rate, duration, meter)
    figures.update(meter.per_request_ms(figures["requests"]))
    figures.update(
        duration_s=duration,
        cards=len(cards),
        server=server or base_url,
        decided=_decisions(stamp),
    )
    print(
        f"Card authorisation decisions, {figures['driver']}, {rate:g}/s for {duration:g} s "
        f"over {len(cards)} cards; server: {figures['server']}",
        flush=True,
    )
    print(
        f"  p50 {figures['p50_ms']} ms  p95 {figures['p95_ms']} ms  p99 {figures['p99_ms']} ms  "
        f"max {figures['max_ms']} ms  achieved {figures['achieved_rps']}/s  "
        f"statuses {figures['statuses']}",
        flush=True,
    )
    print(
        f"  load average before {figures['load_before']}, after {figures['load_after']}; "
        f"decided {figures['decided']}",
        flush=True,
    )
    print(
        f"  CPU per request: server {figures['server_cpu_ms_per_request']} ms, "
        f"PostgreSQL {figures['database_cpu_ms_per_request']} ms",
        flush=True,
    )
    return figures


def _serve(workers: int, threads: int):
    """gunicorn on a free loopback port with the bench settings; returns (process, url, note)."""
    import socket
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [
            str(gunicorn),
            "config.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            "gthread",
            # The load driver keeps connections open; gunicorn's 2 s default would
            # close idle ones under it.
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
            "--env",
            "DJANGO_SETTINGS_MODULE=config.settings.bench",
        ],
        # Connections outlive the run, so the database CPU meter sees the same backends.
        env={**os.environ, "DATABASE_CONN_MAX_AGE": "600"},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/bench/floor", timeout=2).read()  # noqa: S310 - our http URL
            break
        except OSError:
            if process.poll() is not None:
                raise SystemExit("gunicorn did not start") from None
            time.sleep(0.5)
    return process, url, f"gunicorn gthread, {workers} workers x {threads} threads, keep-alive 30 s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="", help="a running server to send events to")
    parser.add_argument("--serve", action="store_true", help="start gunicorn for the run")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--scale", type=int, default=1, help="accepted for bin/bench; not used")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.rate <= 0 or args.duration <= 0 or args.cards <= 0:
        parser.error("--rate, --duration and --cards must be positive")
    if not (args.base_url or args.serve):
        parser.error("give --serve (start gunicorn) or --base-url (a running server)")

    import django

    django.setup()
    from django.conf import settings

    secret = os.environ.get("STRIPE_WEBHOOK_SECRET") or settings.STRIPE_WEBHOOK_SECRET
    if not secret:
        print("Set STRIPE_WEBHOOK_SECRET (the server's) to measure authorisations.")
        return 1
    server, base_url, note = None, args.base_url.rstrip("/"), ""
    if args.serve:
        os.environ["STRIPE_WEBHOOK_SECRET"] = secret
        server, base_url, note = _serve(args.workers, args.threads)
    try:
        figures = {
            "authorisation": bench_authorisations(
                base_url,
                args.rate,
                args.duration,
                secret,
                card_count=args.cards,
                server=note,
                server_pid=server.pid if server else None,
            )
        }
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
