"""Bulk grants from a CSV file: parse, check every row against the database, then write it all in one go.

The same two steps serve the admin page (preview, then confirm) and `manage.py import_entitlements`:
`plan_import()` reads and checks without writing; `import_entitlements()` plans again inside one transaction
and writes only if no row has an error, so a file is imported whole or not at all. A row that matches a live
entitlement exactly (user, channel, start, end, resolution) is left alone, so the same file twice changes nothing.
Reading the file itself (encoding, header, raw values) is viewers/operators/csv_file.py; writing is viewers.services.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower

from viewers import services
from viewers.models import Channel, Entitlement, User
from viewers.operators import invitations
from viewers.operators.csv_file import (
    BAD_DATE,
    COLUMNS,
    MAX_FILE_BYTES,
    NO_USER,
    RESOLUTION_CHOICES,
    ImportFileError,
    Row,
    date_help,
    decode,
    read_rows,
    too_large,
)
from viewers.wording import counted

# The file-reading names (csv_file.py) are part of this module's interface for the admin and the command.
__all__ = [
    "COLUMNS",
    "MAX_FILE_BYTES",
    "RESOLUTION_CHOICES",
    "ImportFileError",
    "ImportRefused",
    "date_help",
    "decode",
    "import_entitlements",
    "plan_import",
    "read_rows",
    "too_large",
    "what_stops",
]

_NOTE_MAX = Entitlement._meta.get_field("note").max_length
_USERNAME_MAX = User._meta.get_field("username").max_length
_CHUNK = 500  # ids per IN (...) query: well under SQLite's variable limit

Progress = Callable[[str, int, int], None]


@dataclass
class Plan:
    rows: list[Row]
    create_users: bool

    @property
    def errors(self) -> list[Row]:
        """Every row that stops the import, whatever its problem."""
        return [row for row in self.rows if row.errors]

    # The preview and the command list the errors in groups, so that rows lacking only their user (fixed by
    # inviting) do not bury the rows that need fixing in the file. The two groups partition `errors`.
    @property
    def failing(self) -> list[Row]:
        """Rows with a problem to fix in the file: everything except a missing user alone."""
        return [row for row in self.rows if any(error.kind != NO_USER for error in row.errors)]

    @property
    def user_missing(self) -> list[Row]:
        """Rows whose one problem is that no user has their email (without "invite missing users")."""
        return [row for row in self.rows if row.errors and all(error.kind == NO_USER for error in row.errors)]

    @property
    def missing_emails(self) -> list[str]:
        """The addresses of `user_missing`, each once, in the order the file first has them."""
        return list(dict.fromkeys(row.email for row in self.user_missing))

    @property
    def has_bad_dates(self) -> bool:
        """Whether to explain the date formats (once, not in every error)."""
        return any(error.kind == BAD_DATE for row in self.rows for error in row.errors)

    @property
    def new(self) -> list[Row]:
        return [row for row in self.rows if row.status == "new"]

    @property
    def unchanged(self) -> list[Row]:
        return [row for row in self.rows if row.status == "unchanged"]

    @property
    def emails_to_invite(self) -> list[str]:
        return sorted({row.email for row in self.rows if row.invite and not row.errors})

    def counts(self) -> dict:
        return {
            "rows": len(self.rows),
            "new": len(self.new),
            "unchanged": len(self.unchanged),
            "errors": len(self.errors),
            "failing": len(self.failing),
            "user_missing": len(self.user_missing),
            "invitations": len(self.emails_to_invite),
        }


class ImportRefused(Exception):
    """Some rows have errors, so nothing was written."""

    def __init__(self, plan: Plan):
        super().__init__(f"Nothing was imported: {', '.join(what_stops(plan.counts()))}.")
        self.plan = plan


def what_stops(counts: dict) -> list[str]:
    """What stops an import, counted as the preview and the command group it: ["2 rows with errors", …]."""
    parts = []
    if counts["failing"]:
        parts.append(f"{counted(counts['failing'], 'row')} with errors")
    if counts["user_missing"]:
        parts.append(f"{counted(counts['user_missing'], 'row')} for no such user")
    return parts


# --- Checking the rows against the database ---------------------------------


def plan_import(text: str, *, create_users: bool, progress: Progress | None = None) -> Plan:
    """Read and check every row; write nothing. Raises ImportFileError for a file that cannot be read."""
    rows = read_rows(text)
    total = len(rows)
    _report(progress, "checking", 0, total)
    channels = dict(Channel.objects.filter(slug__in={row.channel for row in rows}).values_list("slug", "id"))

    emails = set()
    for row in rows:
        _check_values(row, channels)
        if row.email and not any(error.field == "email" for error in row.errors):
            row.email = row.email.lower()
            emails.add(row.email)
    users = _users_by_email(emails)
    taken_usernames = _taken_usernames(emails - users.keys()) if create_users else set()

    seen: dict[tuple, int] = {}
    for row in rows:
        key = (row.email, row.channel, row.starts_at, row.ends_at, row.max_resolution)
        if row.errors:
            pass  # a row that could not be read is not compared with the others
        elif key in seen:
            row.problem("", f"duplicate of line {seen[key]}")
        else:
            seen[key] = row.line
        ids = users.get(row.email, [])
        if len(ids) > 1:
            row.problem("email", f"{len(ids)} users have this address; grant this row by hand")
        elif ids:
            row.user_id = ids[0]
        elif row.email in emails:
            if not create_users:
                row.problem("email", "no user has this address", NO_USER)
            elif row.email in taken_usernames or len(row.email) > _USERNAME_MAX:
                row.problem("email", "cannot invite this address: it is taken or too long as a username")
            else:
                row.invite = True

    existing = _live_entitlements({row.user_id for row in rows if row.user_id}, set(channels.values()))
    for done, row in enumerate(rows, 1):
        if row.errors:
            # In the file's column order, whatever order the checks ran in; problems with the whole row last.
            row.errors.sort(key=lambda error: COLUMNS.index(error.field) if error.field else len(COLUMNS))
            row.status = "error"
        elif row.user_id and (row.user_id, row.channel_id, row.starts_at, row.ends_at, row.max_resolution) in existing:
            row.status = "unchanged"
        else:
            row.status = "new"
        if done % 5000 == 0:
            _report(progress, "checking", done, total)
    _report(progress, "checking", total, total)
    return Plan(rows=rows, create_users=create_users)


def _check_values(row: Row, channels: dict) -> None:
    if not row.email:
        row.problem("email", "empty")
    else:
        try:
            validate_email(row.email)
        except ValidationError:
            row.problem("email", f"{row.email[:60]!r} is not an email address")
    if not row.channel:
        row.problem("channel", "empty")
    elif row.channel not in channels:
        row.problem("channel", f"no channel has the slug {row.channel[:60]!r}")
    else:
        row.channel_id = channels[row.channel]
    try:
        Entitlement.check_window(row.starts_at, row.ends_at)
    except ValidationError as exc:
        message = exc.messages[0]  # the model's sentence, cut to the style of the other problems
        row.problem("ends_at", message[:1].lower() + message[1:].rstrip("."))
    if len(row.note) > _NOTE_MAX:
        row.problem("note", f"longer than {_NOTE_MAX} characters")


def _chunks(values):
    values = list(values)
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]


def _users_by_email(emails: set[str]) -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for chunk in _chunks(emails):
        rows = User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=chunk)
        for email, pk in rows.values_list("email_lower", "pk"):
            found.setdefault(email, []).append(pk)
    return found


def _taken_usernames(emails: set[str]) -> set[str]:
    taken = set()
    for chunk in _chunks(emails):
        rows = User.objects.annotate(name_lower=Lower("username")).filter(name_lower__in=chunk)
        taken.update(rows.values_list("name_lower", flat=True))
    return taken


def _live_entitlements(user_ids: set[int], channel_ids: set[int]) -> set[tuple]:
    found = set()
    for chunk in _chunks(user_ids):
        rows = Entitlement.objects.filter(user_id__in=chunk, channel_id__in=channel_ids, revoked_at__isnull=True)
        found.update(rows.values_list("user_id", "channel_id", "starts_at", "ends_at", "max_resolution"))
    return found


# --- Writing -------------------------------------------------------------------


def import_entitlements(text: str, *, create_users: bool, granted_by=None, progress: Progress | None = None) -> dict:
    """Plan and write in one transaction. Raises ImportRefused (nothing written) if any row has an error.

    Returns the plan's counts plus `invited_user_ids`, the users created as invitations.
    """
    with transaction.atomic():
        plan = plan_import(text, create_users=create_users, progress=progress)
        if plan.errors:
            raise ImportRefused(plan)
        new_rows = plan.new
        invited = invitations.invite(plan.emails_to_invite, invited_by=granted_by)
        total = len(new_rows)
        _report(progress, "writing", 0, total)
        for start in range(0, total, services.BULK_BATCH):
            batch = new_rows[start : start + services.BULK_BATCH]
            entitlements = [
                Entitlement(
                    user_id=row.user_id or invited[row.email],
                    channel_id=row.channel_id,
                    starts_at=row.starts_at,
                    ends_at=row.ends_at,
                    max_resolution=row.max_resolution,
                    note=row.note,
                )
                for row in batch
            ]
            services.entitlements_grant_bulk(entitlements, granted_by=granted_by)
            _report(progress, "writing", start + len(batch), total)
    return {**plan.counts(), "invited_user_ids": sorted(invited.values())}


def _report(progress: Progress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)
