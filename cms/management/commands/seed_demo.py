"""Load deterministic, realistic demo data for one borough.

Each app contributes a ``demo.seed(ctx)`` function, run in the order of
SEEDERS so later apps can build on earlier records. Same scale and same
day give the same data.
"""

import importlib
import random
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from cms.demo import DemoContext

SEEDERS = [
    "marketplace.accounts.demo",
    "cms.content",
    "marketplace.providers.demo",
    "marketplace.budgets.demo",
    "marketplace.payments.demo",
    "marketplace.reviews.demo",
    "commissioning.demand.demo",
    "commissioning.monitoring.demo",
    "commissioning.grants.demo",
    "commissioning.assessments.demo",
    "search.demo",
]

DEMO_PASSWORD = "demo-password-2026"  # noqa: S105 - printed for people trying the demo


class Command(BaseCommand):
    help = "Load demo data for one borough (deterministic for a given --scale and day)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=1, help="1 is one borough; 10 is ten times as many records"
        )
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing if demo data is already loaded."
        )
        parser.add_argument("--seed", type=int, default=2010, help="Random seed")

    def handle(self, *args, scale: int, if_empty: bool, seed: int, **options):
        if scale < 1:
            raise CommandError("--scale must be 1 or more.")
        from marketplace.accounts.models import User

        if User.objects.filter(email__endswith="@demo.scc.test").exists():
            if if_empty:
                self.stdout.write("Demo data is already loaded.")
                self._print_logins(User)
                return
            raise CommandError("Demo data is already loaded. Start from an empty database.")
        ctx = DemoContext(
            scale=scale,
            today=timezone.localdate(),
            rng=random.Random(seed),
            password=DEMO_PASSWORD,
        )
        # Demo data sends no e-mail (Wagtail's moderation notices, reminders).
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            self._seed(ctx)
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
        self._print_logins(User)

    def _seed(self, ctx: DemoContext) -> None:
        for module_name in SEEDERS:
            try:
                module = importlib.import_module(module_name)
            except ModuleNotFoundError as error:
                if error.name == module_name:
                    continue
                raise
            started = time.perf_counter()
            with transaction.atomic():
                module.seed(ctx)
            self.stdout.write(f"  {module_name:<34} {time.perf_counter() - started:6.1f} s")

    def _print_logins(self, user_model):
        self.stdout.write("")
        self.stdout.write(
            f"Demo sign-ins (password for all: {DEMO_PASSWORD}) at {settings.WAGTAILADMIN_BASE_URL}/account/sign-in/"
        )
        from marketplace.accounts.demo import demo_logins

        for role, email, note in demo_logins():
            self.stdout.write(f"  {role:<22} {email:<40} {note}")
        self.stdout.write(
            "Council staff sign in with a security code: run `make demo-code` to see the current codes."
        )
