"""``manage.py cycle [--month YYYY-MM] [--step STEP] [--force]``: run the monthly cycle now.

Without ``--step``, it does what the daily beat tick does for the month: every step whose
working day has come and that has not run. With ``--step``, that one step (``--force`` runs
it again). ``--month`` names the calendar month of the cycle (default: this month); the cycle
reports on the month before it.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ... import periods, runner, timeline
from ...models import CycleStep


class Command(BaseCommand):
    help = "Run this month's cycle steps whose day has come, or one step (reports, lights, agenda, bulletin)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM: the month the cycle runs in (default: this month)")
        parser.add_argument("--step", choices=CycleStep.Kind.values, help="run this step only")
        parser.add_argument("--force", action="store_true", help="run the step again even if it has run")

    def handle(self, *args, month=None, step=None, force=False, **options):
        today = timezone.localdate()
        chosen = periods.begun_month(month) if month else periods.first_of_month(today)
        if chosen is None:
            raise CommandError("--month takes a month that has begun, as YYYY-MM.")
        if step:
            runs = [runner.run_step(step, chosen, force=force)]
        else:
            day = today if chosen == periods.first_of_month(today) else periods.last_day(chosen)
            runs = [runner.run_step(kind, chosen) for kind in runner.due_steps(chosen, day)]
        period = timeline.period_of(chosen)
        self.stdout.write(f"Cycle of {chosen:%Y-%m}, reporting on {period:%Y-%m}:")
        for run in runs:
            if run is None:
                self.stdout.write(f"  {step}: has run already (use --force to run it again)")
            elif run.error:
                self.stderr.write(self.style.ERROR(f"  {run.kind}: failed: {run.error}"))
            else:
                self.stdout.write(self.style.SUCCESS(f"  {run.kind}: {run.result}"))
        if not runs:
            self.stdout.write("  nothing is due yet")
        if any(run is not None and run.error for run in runs):
            raise CommandError("A step failed; see above.")
