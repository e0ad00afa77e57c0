"""Innovation Fund and impact assessment benchmark.

    python -m bench.grants --scale N --base-url http://127.0.0.1:8765
    python -m bench.grants --scale N --in-process      # Django test client, no server

Needs the same DATABASE_URL as the server, with the demo loaded. ``--scale N``
tops the fund up to N × 10 rounds of 41 bids and 12 awards each (every round's
projects with their six reports), so scale 10 is 100 rounds, 4,100 applications
and 1,200 funded projects: far beyond any council's fund, which is the point.
Rows it adds have titles starting "Benchmark".

Measured (closed model, ``--concurrency`` clients over HTTP, or sequential runs
in-process):
  GET /api/grants/360giving.json       the public open-data file (every award)
  GET /grants/manage/                  grant officer dashboard: RAG for every project
  GET /grants/manage/overdue/
  GET /assessments/review/             reviewer queue and the market summary
In-process only: fund_dashboard(), package_360giving(), assessment_results_summary().
"""

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

from bench.load import time_calls

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")


def top_up(rounds_wanted: int) -> int:
    """Add benchmark rounds until there are ``rounds_wanted``; returns how many were added."""
    from django.db import transaction
    from django.utils import timezone

    from commissioning.grants.models import (
        Application,
        ApplicationForm,
        ApplicationStatus,
        Award,
        DevelopmentArea,
        Fund,
        MonitoringReport,
        Round,
        Tranche,
    )
    from commissioning.grants.services import report_schedule
    from marketplace.providers.models import Organisation

    existing = Round.objects.count()
    if existing >= rounds_wanted:
        return 0
    fund = Fund.objects.first() or Fund.objects.create(
        name="Innovation Fund", slug="innovation-fund"
    )
    form = ApplicationForm.objects.first() or ApplicationForm.objects.create(name="Application")
    organisations = list(Organisation.objects.order_by("pk").values_list("pk", flat=True))
    if len(organisations) < 41:
        raise SystemExit("Load the demo first: the top-up needs at least 41 organisations.")
    now, today = timezone.now(), timezone.localdate()
    areas = list(DevelopmentArea.values)
    added = 0
    for number in range(existing, rounds_wanted):
        with transaction.atomic():
            starts = today - timedelta(days=30 + (number * 7) % 300)
            round = Round.objects.create(
                fund=fund,
                title=f"Benchmark round {number}",
                slug=f"benchmark-round-{number}",
                opens_at=now - timedelta(days=400),
                closes_at=now - timedelta(days=300),
                budget_pence=200_000_00,
                max_award_pence=25_000_00,
                form=form,
                grant_starts_on=starts,
                grant_ends_on=starts + timedelta(days=364),
            )
            bidders = [organisations[(number * 41 + i) % len(organisations)] for i in range(41)]
            applications = Application.objects.bulk_create(
                Application(
                    round=round,
                    organisation_id=org_id,
                    title=f"Benchmark project {number}-{i}",
                    development_area=areas[i % 4],
                    amount_requested_pence=15_000_00,
                    summary="Benchmark",
                    status=ApplicationStatus.APPROVED if i < 12 else ApplicationStatus.DECLINED,
                    submitted_at=now - timedelta(days=290),
                )
                for i, org_id in enumerate(bidders)
            )
            awards = Award.objects.bulk_create(
                Award(
                    application=a,
                    amount_pence=16_666_00,
                    agreement_text="Benchmark",
                    starts_on=round.grant_starts_on,
                    ends_on=round.grant_ends_on,
                    agreement_accepted_at=now - timedelta(days=250),
                    agreement_accepted_name="Benchmark",
                )
                for a in applications[:12]
            )
            Tranche.objects.bulk_create(
                Tranche(
                    award=a, number=1, amount_pence=a.amount_pence, due_on=a.starts_on, paid_at=now
                )
                for a in awards
            )
            reports = []
            for i, award in enumerate(awards):
                for report in report_schedule(award=award):
                    if report.due_on < today and i % 5:
                        report.submitted_at = now
                        report.risk_level = "green"
                    reports.append(report)
            MonitoringReport.objects.bulk_create(reports)
        added += 1
    return added


def _in_process(args) -> dict:
    from django.test import Client

    from commissioning.assessments.selectors import assessment_results_summary
    from commissioning.grants.opendata import package_360giving
    from commissioning.grants.selectors import fund_dashboard
    from marketplace.accounts.models import User
    from tests.conftest import sign_in

    officer = User.objects.filter(groups__name="Grant officers").first()
    client = sign_in(Client(HTTP_HOST="localhost"), officer)
    public = Client(HTTP_HOST="localhost")
    out = {
        "fund_dashboard()": time_calls(fund_dashboard, repeat=args.repeat),
        "package_360giving()": time_calls(package_360giving, repeat=args.repeat),
        "assessment_results_summary()": time_calls(assessment_results_summary, repeat=args.repeat),
    }
    for name, path, c in [
        ("GET /api/grants/360giving.json", "/api/grants/360giving.json", public),
        ("GET /grants/manage/", "/grants/manage/", client),
        ("GET /grants/manage/overdue/", "/grants/manage/overdue/", client),
        ("GET /assessments/review/", "/assessments/review/", client),
    ]:
        response = c.get(path)
        assert response.status_code == 200, (path, response.status_code)
        out[name + " (test client)"] = time_calls(
            lambda c=c, path=path: c.get(path), repeat=args.repeat
        )
    size = len(public.get("/api/grants/360giving.json").content)
    out["360giving.json size (bytes)"] = size
    return out


def _http(args) -> dict:
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from bench.load import Request, report, run_load
    from marketplace.accounts.models import User

    officer = User.objects.filter(groups__name="Grant officers").first()
    store = SessionStore()
    store[SESSION_KEY] = str(officer.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = officer.get_session_auth_hash()
    device = TOTPDevice.objects.filter(user=officer, confirmed=True).first()
    if device:
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    store.save()
    cookie = {"Cookie": f"{settings.SESSION_COOKIE_NAME}={store.session_key}"}
    scenarios = [
        ("GET /api/grants/360giving.json", [Request("/api/grants/360giving.json")]),
        ("GET /grants/manage/", [Request("/grants/manage/", headers=cookie)]),
        ("GET /grants/manage/overdue/", [Request("/grants/manage/overdue/", headers=cookie)]),
        ("GET /assessments/review/", [Request("/assessments/review/", headers=cookie)]),
    ]
    results = [
        run_load(
            name,
            args.base_url,
            requests,
            concurrency=args.concurrency,
            duration_s=args.duration,
            warmup=3,
        )
        for name, requests in scenarios
    ]
    report(results, title="Innovation Fund and impact assessment")
    return {r.name: r.as_row() for r in results}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--in-process", action="store_true")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    import django

    django.setup()
    from commissioning.grants.models import Award, Round

    started = time.perf_counter()
    added = top_up(args.scale * 10)
    figures = {
        "scale": args.scale,
        "rounds": Round.objects.count(),
        "awards": Award.objects.count(),
        "rounds_added": added,
        "top_up_s": round(time.perf_counter() - started, 1),
    }
    figures.update(_in_process(args) if args.in_process else _http(args))
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
