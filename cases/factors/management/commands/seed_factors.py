"""manage.py seed_factors: the demo's factor ledgers for this year (idempotent)."""

from django.core.management.base import BaseCommand

from ...demo import seed_factors


class Command(BaseCommand):
    help = (
        "Seed the demo's factor ledgers (after seed_demo): this year's ledger of each factor with its quota, "
        "requests of the demo cases' pre-work items reserved and allocated, a return, and shortfalls. "
        "Does nothing when this year's ledgers are there."
    )

    def handle(self, *args, **options):
        if seed_factors(stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("The demo's factor ledgers are seeded."))
        else:
            self.stdout.write("This year's factor ledgers are there already (or the demo city is missing); nothing done.")
