"""Print the current two-factor security code of each demo staff account."""

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from django.core.management.base import BaseCommand

from marketplace.accounts.demo import DOMAIN


class Command(BaseCommand):
    help = "Show the current security code for every demo staff account (demo data only)."

    def handle(self, *args, **options):
        devices = TOTPDevice.objects.filter(user__email__endswith=f"@{DOMAIN}", confirmed=True)
        if not devices:
            self.stdout.write("No demo staff accounts: run `python manage.py seed_demo` first.")
            return
        for device in devices.select_related("user").order_by("user__email"):
            code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
            self.stdout.write(f"{device.user.email:<40} {code:0{device.digits}d}")
        self.stdout.write("Codes change every 30 seconds.")
