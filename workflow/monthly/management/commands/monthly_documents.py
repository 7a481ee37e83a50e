"""``manage.py monthly_documents [--month YYYY-MM] [--out DIR] [--language zh-hans|en]``: write a
month's cycle documents to files.

The agenda and the minutes (Word and PDF), the bulletin (Word, Excel and PDF) and the report
status table (Excel) go to ``var/documents/<YYYY-MM>/`` unless ``--out`` says otherwise.

With ``--month``, that month's, all of them or nothing: nothing is written when its meeting or its
bulletin does not exist yet. Without it, the latest month that has a meeting or a bulletin
(else reports), and of it what exists: early in a month, before the meeting on the month before is
drafted, the month before's whole set (the command says which month it chose, what is not there
yet, and which month has the whole set).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ... import documents, periods
from ...models import Bulletin, Meeting, MonthlyReport

FILES = [
    ("agenda.docx", "agenda", "docx"),
    ("agenda.pdf", "agenda", "pdf"),
    ("minutes.docx", "minutes", "docx"),
    ("minutes.pdf", "minutes", "pdf"),
    ("bulletin.docx", "bulletin", "docx"),
    ("bulletin.xlsx", "bulletin", "xlsx"),
    ("bulletin.pdf", "bulletin", "pdf"),
    ("report-status.xlsx", "report_status", "xlsx"),
]


def latest_month_with_documents(today=None):
    """The latest month that has begun and has a scheduling meeting or a bulletin (the documents
    proper); failing those, the latest with reports; or None."""
    this_month = periods.first_of_month(today or timezone.localdate())

    def latest(*models):
        found = [model.objects.filter(month__lte=this_month).aggregate(latest=Max("month"))["latest"] for model in models]
        return max((month for month in found if month is not None), default=None)

    return latest(Meeting, Bulletin) or latest(MonthlyReport)


def latest_complete_month(before):
    """The latest month before ``before`` that has both its meeting and its bulletin, or None."""
    return (
        Meeting.objects.filter(month__lt=before, month__in=Bulletin.objects.values("month"))
        .order_by("-month")
        .values_list("month", flat=True)
        .first()
    )


def _missing_error(period, meeting, bulletin):
    month = f"{period:%Y-%m}"
    if meeting is None and bulletin is None:
        return _(
            "Nothing written for %(month)s: there is no scheduling meeting (draft its agenda first) and "
            "no bulletin (score the units first) yet."
        ) % {"month": month}
    if meeting is None:
        return _("Nothing written for %(month)s: there is no scheduling meeting (draft its agenda first) yet.") % {
            "month": month
        }
    return _("Nothing written for %(month)s: there is no bulletin (score the units first) yet.") % {"month": month}


class Command(BaseCommand):
    help = "Write a month's agenda, minutes, bulletin and report status table as Word, Excel and PDF files."

    def add_arguments(self, parser):
        parser.add_argument(
            "--month",
            help="YYYY-MM, the period reported on (default: the latest month with a meeting or a bulletin)",
        )
        parser.add_argument("--out", help="the directory to write to (default: var/documents/<YYYY-MM>/)")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help=f"the language of the documents (default: {settings.LANGUAGE_CODE})",
        )

    def handle(self, *args, month=None, out=None, language=None, **options):
        with translation.override(language or settings.LANGUAGE_CODE):
            period, meeting, bulletin = self._subjects(month)
            directory = Path(out) if out else Path(settings.VAR_DIR) / "documents" / f"{period:%Y-%m}"
            subjects = {"agenda": meeting, "minutes": meeting, "bulletin": bulletin, "report_status": period}
            files = [(name, kind, fmt) for name, kind, fmt in FILES if subjects[kind] is not None]
            directory.mkdir(parents=True, exist_ok=True)
            for name, kind, fmt in files:
                built = documents.build(kind, subjects[kind], fmt)
                target = directory / name
                target.write_bytes(built.content)
                self.stdout.write(str(target))
            written = ngettext(
                "%(month)s: %(count)d file in %(directory)s", "%(month)s: %(count)d files in %(directory)s", len(files)
            ) % {"month": f"{period:%Y-%m}", "count": len(files), "directory": directory}
            self.stdout.write(self.style.SUCCESS(written))

    def _subjects(self, month):
        """The period, its meeting and its bulletin; without ``--month``, the latest month that has
        documents, saying so and what it lacks."""
        if month:
            period = periods.begun_month(month)
            if period is None:
                raise CommandError(_("--month takes a month that has begun, as YYYY-MM."))
            meeting = Meeting.objects.filter(month=period).first()
            bulletin = Bulletin.objects.filter(month=period).first()
            if meeting is None or bulletin is None:
                raise CommandError(_missing_error(period, meeting, bulletin))
            return period, meeting, bulletin
        period = latest_month_with_documents()
        if period is None:
            raise CommandError(
                _("Nothing written: no month has a scheduling meeting, a bulletin or reports yet (run the cycle first).")
            )
        name = f"{period:%Y-%m}"
        self.stdout.write(_("Writing the documents of %(month)s, the latest month that has any.") % {"month": name})
        meeting = Meeting.objects.filter(month=period).first()
        bulletin = Bulletin.objects.filter(month=period).first()
        if meeting is None:
            self.stdout.write(self.style.WARNING(
                _("%(month)s has no scheduling meeting yet (draft its agenda first): no agenda or minutes.")
                % {"month": name}
            ))
        if bulletin is None:
            self.stdout.write(self.style.WARNING(
                _("%(month)s has no bulletin yet (score the units first): no bulletin.") % {"month": name}
            ))
        complete = latest_complete_month(period) if meeting is None or bulletin is None else None
        if complete is not None:
            self.stdout.write(
                _("%(month)s has its agenda, minutes and bulletin: write them with --month %(month)s.")
                % {"month": f"{complete:%Y-%m}"}
            )
        return period, meeting, bulletin
