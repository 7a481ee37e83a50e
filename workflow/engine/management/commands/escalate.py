"""``manage.py escalate``: fire every rung of the ladder that is due now, in this process.

Beat's sweep does this every minute through the workers; this is for the moment a
deployment starts (``make run`` calls it after seeding the demo, so the overdue board
has its levels at once) and for an operator who corrected the holiday table.
"""

from django.core.management.base import BaseCommand

from ... import ladder as escalation


class Command(BaseCommand):
    help = "Fire every rung of the escalation ladder that is due now, in this process."

    def handle(self, *args, **options):
        batches = []
        handed = escalation.sweep(enqueue=batches.append)
        fired = 0
        for number, batch in enumerate(batches, start=1):
            fired += len(escalation.escalate_batch(batch))
            self.stdout.write(f"batch {number}/{len(batches)}: {len(batch)} tasks", ending="\n")
        self.stdout.write(self.style.SUCCESS(f"{handed} tasks had a rung due; {fired} escalations fired."))
