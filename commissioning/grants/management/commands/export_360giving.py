import json

from django.core.management.base import BaseCommand

from commissioning.grants.opendata import package_360giving


class Command(BaseCommand):
    help = "Write awarded Innovation Fund grants as a 360Giving 1.4.3 JSON data package."

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", help="File to write (default: standard output)")
        parser.add_argument("--base-url", help="Public address of the site, for links in the file")

    def handle(self, *args, output=None, base_url=None, **options):
        package = package_360giving(base_url=base_url)
        text = json.dumps(package, indent=2, ensure_ascii=False)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
            self.stderr.write(f"Wrote {len(package['grants'])} grants to {output}.")
        else:
            self.stdout.write(text)
