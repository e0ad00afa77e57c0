"""Foundation benchmark: the framework floor and the pages every visitor meets.

    python -m bench --base-url http://127.0.0.1:8765 [--duration 10] [--concurrency 8]

bin/bench starts the servers and the site, then runs this and each area's module.
"""

import argparse
import json
import sys
from pathlib import Path

from bench.load import Request, report, run_load


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, help="Also write the figures here")
    args = parser.parse_args(argv)

    scenarios = [
        ("bare Django view (framework floor)", [Request("/bench/floor")]),
        ("GET /healthz", [Request("/healthz")]),
        ("GET / (home page, Wagtail)", [Request("/")]),
        ("GET /advice/ (information index)", [Request("/advice/")]),
        ("GET /advice/glossary/", [Request("/advice/glossary/")]),
        ("GET /account/sign-in/", [Request("/account/sign-in/")]),
    ]
    results = [
        run_load(
            name, args.base_url, requests, concurrency=args.concurrency, duration_s=args.duration
        )
        for name, requests in scenarios
    ]
    report(
        results,
        title=f"Foundation, {args.concurrency} concurrent clients, {args.duration:.0f} s each",
    )
    if args.json:
        args.json.write_text(json.dumps([result.as_row() for result in results], indent=2))
    return 0 if all(result.errors == 0 for result in results) else 1


if __name__ == "__main__":
    sys.exit(main())
