from django.core.management.base import BaseCommand, CommandError

from commissioning.demand.services import demand_rollups_differences, demand_rollups_rebuild


class Command(BaseCommand):
    help = "Recompute the demand rollups from every purchase (repair), or --check them."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only compare the rollups with a GROUP BY over purchases; exit 1 if they differ.",
        )

    def handle(self, *args, check: bool, **options):
        if check:
            problems = demand_rollups_differences()
            if problems:
                for problem in problems[:50]:
                    self.stderr.write(problem)
                raise CommandError(
                    f"{len(problems)} differences: run rebuild_demand_rollups to repair."
                )
            self.stdout.write("The demand rollups are in step with the purchases.")
            return
        cells, members = demand_rollups_rebuild()
        self.stdout.write(f"Rebuilt the demand rollups: {cells} cells, {members} member rows.")
