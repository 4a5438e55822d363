"""The CSV import's errors in groups, as the admin preview and `manage.py import_entitlements` list them: rows to
fix in the file, with each problem named once by its field and the date formats said once; then the rows that only
lack their user, which inviting fixes."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from viewers.operators import csv_import
from viewers.wording import counted

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"
TEXT = HEADER + "".join(
    line + "\n"
    for line in [
        "ghost@example.com,main-event,,,,",  # 2: no such user
        "carol@example.com,nope,,,,",  # 3: error
        "ghost@example.com,main-event,,,SD,",  # 4: no such user, the same address
        "alice@example.com,main-event,,,,",  # 5: already granted
        "phantom@example.com,main-event,soon,,,",  # 6: error, and no such user
        "spectre@example.com,main-event,,,,",  # 7: no such user
        "carol@example.com,main-event,,,,",  # 8: new
    ]
)


def plan(text, create_users=False):
    return csv_import.plan_import(text, create_users=create_users)


@pytest.mark.django_db
class TestTheGroups:
    def test_they_partition_the_rows_with_errors(self, alice, carol, private_channel):
        result = plan(TEXT)
        assert [row.line for row in result.failing] == [3, 6]
        assert [row.line for row in result.user_missing] == [2, 4, 7]
        assert result.missing_emails == ["ghost@example.com", "spectre@example.com"]
        counts = result.counts()
        assert (counts["errors"], counts["failing"], counts["user_missing"]) == (5, 2, 3)
        assert (counts["unchanged"], counts["new"]) == (1, 1)

    def test_a_failing_row_still_says_its_user_is_missing(self, alice, carol, private_channel):
        (_, phantom) = plan(TEXT).failing
        assert [str(error) for error in phantom.errors] == [
            "email: no user has this address",
            "starts_at: 'soon' is not a date",
        ]

    def test_a_rows_errors_come_in_the_order_of_its_columns(self, carol, private_channel):
        (row,) = plan(HEADER + "carol@example.com,main-event,2026-12-25,2026-12-24,4K,\n").errors
        assert [error.field for error in row.errors] == ["ends_at", "max_resolution"]

    def test_inviting_leaves_no_row_lacking_its_user(self, alice, carol, private_channel):
        result = plan(TEXT, create_users=True)
        assert result.user_missing == [] and [row.line for row in result.failing] == [3, 6]


@pytest.mark.django_db
class TestTheDateFormats:
    def test_a_row_with_two_bad_dates_names_each_field_once_without_the_formats(self, carol, private_channel):
        result = plan(HEADER + "carol@example.com,main-event,1st of May,tomorrow,,\n")
        (row,) = result.errors
        assert [(error.field, error.message) for error in row.errors] == [
            ("starts_at", "'1st of May' is not a date"),
            ("ends_at", "'tomorrow' is not a date"),
        ]
        assert not any("Dates look like" in str(error) for error in row.errors)
        assert result.has_bad_dates and not plan(HEADER + "carol@example.com,nope,,,,\n").has_bad_dates

    def test_the_formats_name_the_time_zone(self, settings):
        settings.TIME_ZONE = "Europe/Paris"
        assert "(site time zone, Europe/Paris)" in csv_import.date_help()


def test_counts_are_singular_or_plural():
    assert [counted(n, "row") for n in (0, 1, 2, 1200)] == ["0 rows", "1 row", "2 rows", "1,200 rows"]
    assert counted(3, "more address", "more addresses") == "3 more addresses"


@pytest.mark.django_db
class TestTheCommand:
    def dry_run(self, tmp_path, text):
        path = tmp_path / "grants.csv"
        path.write_text(text, encoding="utf-8")
        out = StringIO()
        with pytest.raises(CommandError) as refused:
            call_command("import_entitlements", str(path), "--dry-run", "--no-progress", stdout=out)
        return out.getvalue(), str(refused.value)

    def test_it_says_what_stops_the_import_in_the_same_groups(self, tmp_path, alice, carol, private_channel):
        _, refused = self.dry_run(tmp_path, TEXT)
        assert refused == "The import would be refused: 2 rows with errors, 3 rows for no such user."

    def test_errors_come_first_then_the_date_formats_once_then_the_missing_users(
        self, tmp_path, alice, carol, private_channel
    ):
        out, _ = self.dry_run(tmp_path, TEXT + "carol@example.com,main-event,later,never,,\n")
        assert out.splitlines() == [
            "line 3 (carol@example.com): channel: no channel has the slug 'nope'",
            "line 6 (phantom@example.com): email: no user has this address; starts_at: 'soon' is not a date",
            "line 9 (carol@example.com): starts_at: 'later' is not a date; ends_at: 'never' is not a date",
            csv_import.date_help(),
            "No such user (3 rows); --invite creates them: ghost@example.com, spectre@example.com.",
            "Would import 1 new entitlement; 1 row already granted; 0 users invited; 3 rows with errors; "
            "3 rows for no such user; 8 rows read.",
        ]
