"""manage.py seed_demo: build the demo city once (idempotent)."""

from django.core.management.base import BaseCommand

from ...demo import seed_demo


class Command(BaseCommand):
    help = "Seed the demo city: units, people, about eighty key projects with their history. Does nothing when it is there."

    def handle(self, *args, **options):
        if seed_demo(stdout=self.stdout):
            self.stdout.write(self.style.SUCCESS("Demo data seeded. Logins (password: demo): secretariat, supervisor, leader, head, staff, bank."))
        else:
            self.stdout.write("Demo data is already there; nothing done.")
