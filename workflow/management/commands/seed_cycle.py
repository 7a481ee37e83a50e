"""``manage.py seed_cycle``: the demo's monthly cycles (last month's complete, this month's as far
as
its days have come), through the services; does nothing when they are there. ``make run`` calls it.
"""

from django.core.management.base import BaseCommand

from workflow.demo import seed_cycle


class Command(BaseCommand):
    help = "Seed the demo's monthly cycles: reports, lights, meetings with minutes and decisions, bulletins."

    def handle(self, *args, **options):
        if seed_cycle(stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("The demo's monthly cycles are seeded."))
        else:
            self.stdout.write("The demo's monthly cycles are there already; nothing done.")
