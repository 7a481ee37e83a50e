"""manage.py seed_financing: the demo's institutions, products and financing needs, matched
(idempotent)."""

from django.core.management.base import BaseCommand

from ...demo import seed_financing


class Command(BaseCommand):
    help = (
        "Seed the demo's financing docking: institution types and branches, about forty products, the needs of "
        "the cases in docking and financing, matched. Does nothing when products or needs are there."
    )

    def handle(self, *args, **options):
        if seed_financing(stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("The demo's financing docking is seeded."))
        else:
            self.stdout.write("Financing docking data is there already (or the demo city is missing); nothing done.")
