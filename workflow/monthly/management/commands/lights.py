"""``manage.py lights [--month YYYY-MM]``: compute a month's traffic lights now (default: last
month).

Beat does it once a month from the sixth working day; ``make run`` calls this after seeding
the demo so that the lights page has a month to show.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ... import lights, periods


class Command(BaseCommand):
    help = "Compute a month's traffic lights for every active case (default: last month)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, a month that has begun (default: last month)")

    def handle(self, *args, month=None, **options):
        if month:
            chosen = periods.begun_month(month)
        else:
            chosen = periods.previous_month(periods.first_of_month(timezone.localdate()))
        if chosen is None:
            raise CommandError("--month takes a month that has begun, as YYYY-MM.")
        snapshots = lights.lights_compute(month=chosen)
        counts = {light: sum(1 for s in snapshots if s.light == light) for light in ("green", "yellow", "red")}
        self.stdout.write(
            self.style.SUCCESS(
                f"{chosen:%Y-%m}: {len(snapshots)} cases, {counts['green']} green, "
                f"{counts['yellow']} yellow, {counts['red']} red."
            )
        )
