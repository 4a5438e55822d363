"""Import entitlements from a CSV file with the columns email, channel (slug), starts_at, ends_at, max_resolution,
note. Checks every row first and writes nothing unless all rows are good; rows that are already granted are
skipped, so running the same file twice changes nothing.
"""

import os
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from viewers.models import User
from viewers.operators import csv_import, emails, exports
from viewers.operators.invitations import invitation_links
from viewers.wording import counted

SHOW_ERRORS = 50
SHOW_ADDRESSES = 20


class Command(BaseCommand):
    help = __doc__

    def add_arguments(self, parser):
        parser.add_argument("file", help="The CSV file (UTF-8).")
        parser.add_argument(
            "--invite",
            action="store_true",
            help="Create users that do not exist yet, inactive until they set a password through their link. "
            "Without it, every email must belong to an existing user.",
        )
        parser.add_argument("--dry-run", action="store_true", help="Check the file and report; write nothing.")
        parser.add_argument(
            "--links-out",
            metavar="PATH",
            help="With --invite: write email,password-set link for the invited users to this new file (mode 0600).",
        )
        parser.add_argument(
            "--email-invitations",
            action="store_true",
            help="With --invite: email each invited user their password-set link (EMAIL_URL) instead of "
            "handing the links to you.",
        )
        parser.add_argument(
            "--base-url", help="The site's address for the links, e.g. https://watch.example.com (default SITE_URL)."
        )
        parser.add_argument("--by", metavar="USERNAME", help="Record this user as the one who granted.")
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, file, invite, dry_run, links_out, base_url, by, no_progress, email_invitations, **options):
        base_url = base_url or settings.SITE_URL
        if links_out and not (invite and base_url):
            raise CommandError("--links-out needs --invite and --base-url (or SITE_URL).")
        if email_invitations and not (invite and base_url):
            raise CommandError("--email-invitations needs --invite and --base-url (or SITE_URL).")
        if links_out and Path(links_out).exists():
            raise CommandError(f"{links_out} already exists; choose a new file for the links.")
        granted_by = None
        if by:
            granted_by = User.objects.filter(username=by).first()
            if granted_by is None:
                raise CommandError(f"--by: no user named {by!r}.")
        text = self._read(Path(file))
        progress = None if no_progress else self._progress_bar()
        started = time.monotonic()
        try:
            if dry_run:
                self._dry_run(text, invite, progress)
                return
            result = csv_import.import_entitlements(text, create_users=invite, granted_by=granted_by, progress=progress)
        except csv_import.ImportFileError as exc:
            raise CommandError(f"{file}: {exc} Nothing was imported.") from None
        except csv_import.ImportRefused as exc:
            self._finish_bar(progress)
            self._report_errors(exc.plan)
            raise CommandError(str(exc)) from None
        self._finish_bar(progress)
        self._summary("Imported", result)
        took = time.monotonic() - started
        self.stdout.write(f"Took {took:.1f} s." if took >= 1 else f"Took {took * 1000:.0f} ms.")
        if links_out and result["invited_user_ids"]:
            self._write_links(Path(links_out), result["invited_user_ids"], base_url)
        if email_invitations and result["invited_user_ids"]:
            users = User.objects.filter(pk__in=result["invited_user_ids"]).order_by("email")
            self.stdout.write(emails.invitations_report(*emails.send_invitations(users, base_url)))

    def _dry_run(self, text, invite, progress):
        plan = csv_import.plan_import(text, create_users=invite, progress=progress)
        self._finish_bar(progress)
        self._report_errors(plan)
        counts = plan.counts()
        self._summary("Would import", counts)
        if plan.errors:
            raise CommandError(f"The import would be refused: {', '.join(csv_import.what_stops(counts))}.")

    def _read(self, path: Path) -> str:
        try:
            size = path.stat().st_size
            if size > csv_import.MAX_FILE_BYTES:
                raise csv_import.ImportFileError(csv_import.too_large(size))
            return csv_import.decode(path.read_bytes())
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        except csv_import.ImportFileError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from None

    def _progress_bar(self):
        width = 30
        last = {}

        def show(stage, done, total):
            filled = width * done // total if total else width
            line = f"\r{stage:<9} [{'#' * filled}{'.' * (width - filled)}] {done:>7,}/{total:,} rows"
            if last.get("line") != line:
                self.stdout.write(line, ending="")
                self.stdout.flush()
                last["line"] = line

        return show

    def _finish_bar(self, progress):
        if progress is not None:
            self.stdout.write("")

    def _report_errors(self, plan):
        """In the admin preview's groups: rows to fix in the file, the date formats once, then the missing users."""
        failing = plan.failing
        for row in failing[:SHOW_ERRORS]:
            email = f" ({row.email[:60]})" if row.email else ""
            self.stdout.write(f"line {row.line}{email}: {'; '.join(map(str, row.errors))}")
        if len(failing) > SHOW_ERRORS:
            self.stdout.write(f"… and {counted(len(failing) - SHOW_ERRORS, 'more row')} with errors.")
        if plan.has_bad_dates:
            self.stdout.write(csv_import.date_help())
        missing = plan.missing_emails
        if missing:
            more = len(missing) - SHOW_ADDRESSES
            more = f" and {counted(more, 'more address', 'more addresses')}" if more > 0 else ""
            self.stdout.write(
                f"No such user ({counted(len(plan.user_missing), 'row')}); --invite creates them: "
                f"{', '.join(missing[:SHOW_ADDRESSES])}{more}."
            )

    def _summary(self, verb, counts):
        parts = [
            f"{verb} {counted(counts['new'], 'new entitlement')}",
            f"{counted(counts['unchanged'], 'row')} already granted",
            f"{counted(counts['invitations'], 'user')} invited",
        ]
        parts += csv_import.what_stops(counts)
        self.stdout.write("; ".join([*parts, f"{counted(counts['rows'], 'row')} read."]))

    def _write_links(self, path: Path, user_ids, base_url):
        users = User.objects.filter(pk__in=user_ids).order_by("email")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise CommandError(f"The import is done, but {path} cannot be created: {exc.strerror}.") from None
        with os.fdopen(fd, "w", newline="") as f:
            f.writelines(exports.csv_lines(["email", "password_set_link"], invitation_links(users, base_url)))
        invited = counted(len(user_ids), "invited user")
        self.stdout.write(f"Password-set links for {invited} written to {path} (mode 0600).")
