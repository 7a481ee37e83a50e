"""``manage.py monthly_documents [--month YYYY-MM] [--out DIR] [--language zh-hans|en]``: write a
month's cycle documents to files.

The agenda and the minutes (Word and PDF), the bulletin (Word, Excel and PDF) and the report
status table (Excel) of the period, by default the month before this one, go to
``var/documents/<YYYY-MM>/`` unless ``--out`` says otherwise. Nothing is written when the
period's meeting or bulletin does not exist yet.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation

from ... import documents, periods
from ...models import Bulletin, Meeting

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


class Command(BaseCommand):
    help = "Write a month's agenda, minutes, bulletin and report status table as Word, Excel and PDF files."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM, the period reported on (default: last month)")
        parser.add_argument("--out", help="the directory to write to (default: var/documents/<YYYY-MM>/)")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            help=f"the language of the documents (default: {settings.LANGUAGE_CODE})",
        )

    def handle(self, *args, month=None, out=None, language=None, **options):
        if month:
            period = periods.begun_month(month)
            if period is None:
                raise CommandError("--month takes a month that has begun, as YYYY-MM.")
        else:
            period = periods.previous_month(periods.first_of_month(timezone.localdate()))
        meeting = Meeting.objects.filter(month=period).first()
        bulletin = Bulletin.objects.filter(month=period).first()
        missing = []
        if meeting is None:
            missing.append("no scheduling meeting (draft its agenda first)")
        if bulletin is None:
            missing.append("no bulletin (score the units first)")
        if missing:
            raise CommandError(f"Nothing written for {period:%Y-%m}: there is {' and '.join(missing)} yet.")
        directory = Path(out) if out else Path(settings.VAR_DIR) / "documents" / f"{period:%Y-%m}"
        directory.mkdir(parents=True, exist_ok=True)
        subjects = {"agenda": meeting, "minutes": meeting, "bulletin": bulletin, "report_status": period}
        with translation.override(language or settings.LANGUAGE_CODE):
            for name, kind, fmt in FILES:
                built = documents.build(kind, subjects[kind], fmt)
                target = directory / name
                target.write_bytes(built.content)
                self.stdout.write(str(target))
        self.stdout.write(self.style.SUCCESS(f"{period:%Y-%m}: {len(FILES)} files in {directory}"))
