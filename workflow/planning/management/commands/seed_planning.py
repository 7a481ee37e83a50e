"""``manage.py seed_planning``: next year's annual plan compilation with proposals from several
units, through the services; does nothing when it is there. Run after ``seed_demo``."""

from django.core.management.base import BaseCommand

from workflow.planning.demo import seed_planning


class Command(BaseCommand):
    help = "Seed next year's annual investment plan compilation with proposals from several units."

    def handle(self, *args, **options):
        if seed_planning(stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("Next year's annual plan compilation is seeded."))
        else:
            self.stdout.write("Next year's annual plan compilation is there already (or there is no demo city); nothing done.")
