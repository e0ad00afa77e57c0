"""Open Referral UK API benchmark.

    python -m bench.oruk --scale N --base-url http://127.0.0.1:8765 [--duration 10] [--concurrency 8]

Runs against a site loaded with ``seed_demo --scale N`` (about 390 services per
scale step). Ids are discovered through the API itself, so it needs no database
access. ``--in-process`` drives the same requests through Django's test client
(using DATABASE_URL) for a figure without a running server.

Measured (closed model):
  GET /api/oruk/services?per_page=50&page=k          list pages across the directory
  GET /api/oruk/services?taxonomy_term_id=<home care>&day=MO
  GET /api/oruk/services/<id>                          fully nested service
  GET /api/oruk/service_at_locations?postcode=..&proximity=3000
  GET /api/oruk/service_at_locations/<id>
  GET /api/oruk/taxonomy_terms
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.load import summary_ms

POSTCODES = ["N3 2SB", "N12 8QJ", "EN5 1AA", "NW4 4BE", "HA8 7BD", "N20 9AA", "NW11 7HP", "N2 8AB"]


def _scenarios(get_json) -> list[tuple[str, list[str]]]:
    first = get_json("/api/oruk/services?per_page=200")
    total_pages = max(1, -(-first["total_items"] // 50))
    service_ids = [item["id"] for item in first["contents"]]
    terms = get_json("/api/oruk/taxonomy_terms?per_page=200")["contents"]
    home_care = next(term["id"] for term in terms if term.get("term") == "home_care")
    locations = get_json("/api/oruk/service_at_locations?per_page=200")["contents"]
    location_ids = [item["id"] for item in locations]
    return [
        (
            "GET /api/oruk/services (50 a page)",
            [f"/api/oruk/services?per_page=50&page={1 + n % total_pages}" for n in range(50)],
        ),
        (
            "GET /api/oruk/services?taxonomy_term_id&day",
            [
                f"/api/oruk/services?{urlencode({'taxonomy_term_id': home_care, 'day': 'MO', 'per_page': 20})}"
            ],
        ),
        ("GET /api/oruk/services/{id}", [f"/api/oruk/services/{sid}" for sid in service_ids]),
        (
            "GET /api/oruk/service_at_locations near",
            [
                f"/api/oruk/service_at_locations?{urlencode({'postcode': p, 'proximity': 3000, 'per_page': 20})}"
                for p in POSTCODES
            ],
        ),
        (
            "GET /api/oruk/service_at_locations/{id}",
            [f"/api/oruk/service_at_locations/{lid}" for lid in location_ids],
        ),
        ("GET /api/oruk/taxonomy_terms", ["/api/oruk/taxonomy_terms"]),
    ]


def _over_http(args) -> list[dict]:
    import http.client
    from urllib.parse import urlsplit

    from bench.load import Request, report, run_load

    parts = urlsplit(args.base_url)

    def get_json(path: str) -> dict:
        connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise SystemExit(f"bench.oruk: {path} answered {response.status}: {body[:200]!r}")
        return json.loads(body)

    results = [
        run_load(
            name,
            args.base_url,
            [Request(path) for path in paths],
            concurrency=args.concurrency,
            duration_s=args.duration,
        )
        for name, paths in _scenarios(get_json)
    ]
    report(
        results,
        title=f"Open Referral UK API ({args.concurrency} clients, {args.duration:.0f} s each)",
    )
    return [result.as_row() for result in results]


def _in_process(args) -> list[dict]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.bench")
    import django

    django.setup()
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")

    def get_json(path: str) -> dict:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"bench.oruk: {path} answered {response.status_code}")
        return response.json()

    rows = []
    for name, paths in _scenarios(get_json):
        samples = []
        deadline = time.perf_counter() + args.duration
        index = 0
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            client.get(paths[index % len(paths)])
            samples.append((time.perf_counter() - started) * 1000)
            index += 1
        row = {
            "name": name,
            "requests": len(samples),
            **summary_ms(samples),
            "throughput_rps": round(len(samples) / args.duration, 1),
            "concurrency": 1,
        }
        rows.append(row)
        print(
            f"{name:<46} {row['requests']:>6} p50 {row['p50_ms']:>8} ms  p95 {row['p95_ms']:>8} ms",
            flush=True,
        )
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument(
        "--scale", type=int, default=1, help="The scale the site was seeded with (for the record)"
    )
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--in-process", action="store_true", help="Use Django's test client, no server"
    )
    parser.add_argument("--json", type=Path, help="Also write the figures here")
    args = parser.parse_args(argv)
    rows = _in_process(args) if args.in_process else _over_http(args)
    if args.json:
        args.json.write_text(
            json.dumps({"area": "oruk", "scale": args.scale, "results": rows}, indent=2)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
