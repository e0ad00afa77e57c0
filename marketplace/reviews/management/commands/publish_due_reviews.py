from django.core.management.base import BaseCommand

from marketplace.reviews.services import rating_summaries_refresh, reviews_publish_due


class Command(BaseCommand):
    help = "Publish reviews whose 7-day provider reply window has ended."

    def add_arguments(self, parser):
        parser.add_argument(
            "--refresh-ratings",
            action="store_true",
            help="Also recompute every provider's smoothed rating against today's borough mean.",
        )

    def handle(self, *args, refresh_ratings: bool = False, **options):
        published = reviews_publish_due()
        self.stdout.write(f"Published {published} review{'s' if published != 1 else ''}.")
        if refresh_ratings:
            rated = rating_summaries_refresh()
            self.stdout.write(f"Recomputed ratings for {rated} providers.")
