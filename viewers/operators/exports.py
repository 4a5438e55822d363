"""CSV exports of admin lists, streamed so that a million audit rows never sit in memory."""

import csv
from datetime import datetime

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control

from viewers.access import entitlement_state

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection, OWASP): emails, notes
# and user agents come from outside, so such cells get a leading quote, which makes them plain text.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


class _Echo:
    def write(self, value):
        return value


def csv_lines(header, rows):
    """Every CSV the site writes, line by line: a UTF-8 mark for Excel, the header, then `rows` (iterables of
    cells), every cell passed through safe_cell()."""
    writer = csv.writer(_Echo())
    yield "\ufeff"
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([safe_cell(value) for value in row])


def csv_response(filename: str, header, rows) -> StreamingHttpResponse:
    """A streamed CSV download (csv_lines)."""
    response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    patch_cache_control(response, private=True, no_store=True)
    return response


def entitlement_rows(queryset, now=None):
    now = now or timezone.now()
    fields = (
        "pk",
        "user__username",
        "user__email",
        "group__name",
        "channel__slug",
        "starts_at",
        "ends_at",
        "max_resolution",
        "revoked_at",
        "note",
        "created_at",
        "created_by__username",
        "revoked_by__username",
    )
    for values in queryset.values_list(*fields).iterator(chunk_size=2000):
        row = dict(zip(fields, values, strict=True))
        yield [
            row["pk"],
            row["user__username"],
            row["user__email"],
            row["group__name"],
            row["channel__slug"],
            row["starts_at"],
            row["ends_at"],
            row["max_resolution"],
            entitlement_state(row["revoked_at"], row["starts_at"], row["ends_at"], now),
            row["note"],
            row["created_at"],
            row["created_by__username"],
            row["revoked_at"],
            row["revoked_by__username"],
        ]


ENTITLEMENT_HEADER = [
    "id",
    "username",
    "email",
    "group",
    "channel",
    "starts_at",
    "ends_at",
    "max_resolution",
    "status",
    "note",
    "created_at",
    "created_by",
    "revoked_at",
    "revoked_by",
]


AUDIT_FIELDS = (
    "issued_at",
    "expires_at",
    "user__username",
    "user__email",
    "channel__slug",
    "channel_name",
    "channel_arn",
    "key_fingerprint",
    "viewer_id",
    "single_use_uuid",
    "max_resolution",
    "client_ip",
    "user_agent",
    "purpose",
)
AUDIT_HEADER = [name.replace("__", "_") for name in AUDIT_FIELDS]


def audit_rows(queryset):
    return queryset.values_list(*AUDIT_FIELDS).iterator(chunk_size=5000)
