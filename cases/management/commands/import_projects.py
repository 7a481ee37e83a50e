"""manage.py import_projects FILE.xlsx: import a key project list; one bad row imports nothing."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cases import permissions
from cases.excel import ImportFailed, import_projects


class Command(BaseCommand):
    help = "Import key projects from an .xlsx list (the template of the import page). All rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path to the .xlsx file")
        parser.add_argument(
            "--as",
            dest="username",
            default=None,
            help="the secretariat user recorded in the audit trail (default: the first superuser)",
        )

    def handle(self, *args, file, username, **options):
        User = get_user_model()
        if username:
            actor = User.objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"No user called {username}.")
        else:
            actor = User.objects.filter(is_superuser=True, is_active=True).order_by("pk").first()
            if actor is None:
                raise CommandError("No superuser to record as the importer; pass --as USERNAME.")
        if not permissions.can_import_projects(actor):
            raise CommandError(f"{actor.get_username()} may not import key projects (secretariat only).")
        try:
            with open(file, "rb") as handle:
                created, updated = import_projects(handle, actor=actor, file_name=file.rsplit("/", 1)[-1])
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except ImportFailed as failure:
            for error in failure.errors:
                self.stderr.write(str(error))
            raise CommandError(f"Nothing was imported: {len(failure.errors)} error(s).") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {created} new and {updated} changed key projects."))
