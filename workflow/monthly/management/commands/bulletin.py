"""``manage.py bulletin [--month YYYY-MM]``: score a month's bulletin now (default: last month) and
print the ranking of each group."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cases.services.errors import Conflict

from ... import bulletin as bulletins
from ... import periods


class Command(BaseCommand):
    help = "Score a month's bulletin for every unit and print the ranking (default: last month)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, a month that has begun (default: last month)")

    def handle(self, *args, month=None, **options):
        if month:
            chosen = periods.begun_month(month)
        else:
            chosen = periods.previous_month(periods.first_of_month(timezone.localdate()))
        if chosen is None:
            raise CommandError("--month takes a month that has begun, as YYYY-MM.")
        try:
            bulletin = bulletins.bulletin_compute(month=chosen)
        except Conflict as error:
            raise CommandError(str(error.message)) from error
        scores = list(bulletins.scores_of(bulletin))
        self.stdout.write(f"{bulletin.number} ({chosen:%Y-%m}, {bulletin.get_state_display()}): {len(scores)} units.")
        for _group, label, members in bulletins.grouped(scores):
            self.stdout.write(f"\n{label}")
            for score in members:
                rank = "-" if score.rank is None else score.rank
                total = "-" if score.total is None else score.total
                listing = f"  [{score.get_listing_display()}]" if score.listing else ""
                self.stdout.write(f"{rank:>4}  {total:>6}  {score.unit.name}{listing}")
        self.stdout.write(self.style.SUCCESS(f"{chosen:%Y-%m} scored."))
