"""``manage.py draft_agenda [--month YYYY-MM]``: draft (or draft again) the agenda of the scheduling
meeting for a period (default: the period of the current cycle, last month), and say what it did.

The monthly cycle does the same on its "agenda" working day; drafting is idempotent.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ... import agenda, meetings, periods
from ...models import AgendaSection


class Command(BaseCommand):
    help = "Draft the scheduling meeting's agenda of a month from the data (default: last month)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, the month the meeting reviews (default: last month)")

    def handle(self, *args, month=None, **options):
        chosen = periods.begun_month(month) if month else agenda.period_of_today(timezone.localdate())
        if chosen is None:
            raise CommandError("--month takes a month that has begun, as YYYY-MM.")
        meeting = meetings.meeting_draft(month=chosen)
        result = meeting.draft_result
        if not result.redrafted:
            self.stdout.write(
                self.style.WARNING(
                    f"{chosen:%Y-%m}: meeting {meeting.number} is {meeting.state}; its agenda was not drafted again."
                )
            )
            return
        verb = "created" if result.created else "drafted again"
        labels = dict(AgendaSection.choices)
        sections = ", ".join(f"{labels[section]}: {count}" for section, count in result.by_section.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"{chosen:%Y-%m}: meeting {meeting.number} {verb} for "
                f"{timezone.localtime(meeting.scheduled_at):%Y-%m-%d %H:%M}; "
                f"{result.added} items added, {result.refreshed} brought up to date, {result.removed} removed "
                f"({sections})."
            )
        )
