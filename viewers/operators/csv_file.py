"""Reading an entitlements CSV file: its text (size, encoding, binary content refused with a message), its header
(column names people actually use folded onto ours) and its rows' raw values. No database: csv_import.py checks the
rows against it and writes them."""

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from django.core.exceptions import ValidationError
from django.template.defaultfilters import pluralize
from django.utils import timezone

from viewers import resolutions, validators

COLUMNS = ("email", "channel", "starts_at", "ends_at", "max_resolution", "note")
# Header spellings people actually use, folded onto the column names above.
_ALIASES = {
    "e-mail": "email",
    "channel slug": "channel",
    "channel_slug": "channel",
    "slug": "channel",
    "starts at": "starts_at",
    "start": "starts_at",
    "ends at": "ends_at",
    "end": "ends_at",
    "max resolution": "max_resolution",
    "resolution": "max_resolution",
}
# 50,000 rows are about 5 MB; anything much bigger is a mistake or an attack, and is refused before parsing.
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 100_000
_RESOLUTIONS = {value.replace("_", ""): value for value in resolutions.CLAIM_VALUES}
# "SD, HD, FULL_HD, or empty for no limit": the ladder's values, for the error and the upload page's help.
RESOLUTION_CHOICES = ", ".join(resolutions.CLAIM_VALUES) + ", or empty for no limit"
# Kinds of problem the preview groups apart from the rest (see Problem.kind).
BAD_DATE = "bad date"  # the accepted formats are explained once per page, not once per error
NO_USER = "no user"  # fixed by inviting the missing users rather than by editing the file


def date_help() -> str:
    """The accepted date formats and the time zone of dates without one: said once, wherever dates are asked for."""
    zone = timezone.get_default_timezone_name()
    return f"Dates look like 2026-03-01 or 2026-03-01T18:00 (site time zone, {zone}) or 2026-03-01T18:00+01:00."


class ImportFileError(ValueError):
    """The file as a whole cannot be read; the message says what is wrong and how to fix it."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a row, said once: the column it is in ("" for the row as a whole) and what is wrong."""

    field: str
    message: str
    kind: str = ""  # BAD_DATE, NO_USER, or "" for the rest

    def __str__(self):
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass
class Row:
    line: int  # 1-based line in the file, header included, as a spreadsheet numbers it
    email: str
    channel: str
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    max_resolution: str = ""
    note: str = ""
    errors: list[Problem] = field(default_factory=list)
    status: str = ""  # "new", "unchanged" or "error"
    user_id: int | None = None
    channel_id: int | None = None
    invite: bool = False  # the user does not exist yet and will be created as an invitation

    def problem(self, column: str, message: str, kind: str = "") -> None:
        self.errors.append(Problem(column, message, kind))


# --- Reading the file --------------------------------------------------------


def too_large(size: int | None = None) -> str:
    """What to tell the operator about a file over the limit (`size` in bytes, when it is known)."""
    limit = f"{MAX_FILE_BYTES // 1024 // 1024} MB"
    measured = f"is {size / 1024 / 1024:.1f} MB; the limit is {limit}" if size else f"is larger than {limit}"
    return f"The file {measured}. Split it into smaller files."


def decode(data: bytes) -> str:
    """The file's text. Refuses oversized, binary and non-UTF-8 files with a message saying what to do."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(too_large(len(data)))
    if not data.strip():
        raise ImportFileError("The file is empty.")
    if b"\x00" in data[:65536]:
        raise ImportFileError("This is not a CSV text file (it contains binary data). Export the sheet as CSV.")
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}). "
            "Save it as “CSV UTF-8” and upload it again."
        ) from None


def read_rows(text: str) -> list[Row]:
    """Rows with their raw values. Checks the header; the values are checked by plan_import()."""
    if "\x00" in text:
        # Past decode()'s first 64 KB, or text that did not come through it: PostgreSQL refuses NUL in any query
        # or text column, so it must never reach one.
        raise ImportFileError("This is not a CSV text file (it contains a NUL character). Export the sheet as CSV.")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty.")
        names = [_ALIASES.get(name.strip().lower(), name.strip().lower()) for name in header]
        missing = [column for column in COLUMNS if column not in names]
        if missing:
            raise ImportFileError(
                f"Missing column{pluralize(missing)}: {', '.join(missing)}. "
                f"The first line must name the columns: {','.join(COLUMNS)}."
            )
        duplicated = sorted({name for name in names if name in COLUMNS and names.count(name) > 1})
        if duplicated:
            raise ImportFileError(f"Column{pluralize(duplicated)} named twice: {', '.join(duplicated)}.")
        index = {column: names.index(column) for column in COLUMNS}
        rows = []
        for values in reader:
            if not any(value.strip() for value in values):
                continue  # blank lines, common at the end of exported sheets
            if len(rows) >= MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows. Split it into smaller files.")
            get = {column: (values[i].strip() if i < len(values) else "") for column, i in index.items()}
            row = Row(line=reader.line_num, email=get["email"], channel=get["channel"], note=get["note"])
            row.starts_at = _parse_when(get["starts_at"], "starts_at", row)
            row.ends_at = _parse_when(get["ends_at"], "ends_at", row)
            row.max_resolution = _parse_resolution(get["max_resolution"], row)
            if len(values) > len(header):
                row.problem("", f"{len(values)} values but the header names {len(header)} columns")
            rows.append(row)
    except csv.Error as exc:
        raise ImportFileError(f"Line {reader.line_num} is not valid CSV: {exc}.") from None
    if not rows:
        raise ImportFileError("The file has a header but no rows.")
    return rows


def _parse_when(value: str, column: str, row: Row) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        row.problem(column, f"{value[:40]!r} is not a date", BAD_DATE)
        return None
    when = timezone.make_aware(when) if timezone.is_naive(when) else when
    try:
        validators.validate_date_in_range(when)
    except ValidationError:
        row.problem(column, f"{value[:40]!r} is out of range: {validators.DATE_RANGE}")
        return None
    return when


def _parse_resolution(value: str, row: Row) -> str:
    key = value.upper().replace("_", "").replace(" ", "").replace("-", "")
    if key in ("", "ANY", "NONE"):
        return ""
    if key not in _RESOLUTIONS:
        row.problem("max_resolution", f"{value[:20]!r} is not one of {RESOLUTION_CHOICES}")
        return ""
    return _RESOLUTIONS[key]
