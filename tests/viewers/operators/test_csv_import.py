"""Bulk grants from CSV: the import service and `manage.py import_entitlements`."""

import re
from datetime import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from viewers import access
from viewers.models import Entitlement, Invitation, User
from viewers.operators import csv_import

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"


def csv_of(*lines, header=HEADER):
    return header + "".join(line + "\n" for line in lines)


def plan(text, create_users=False):
    return csv_import.plan_import(text, create_users=create_users)


@pytest.fixture
def carol_and_channel(carol, private_channel):
    return carol, private_channel


@pytest.mark.django_db
class TestReadingTheFile:
    def test_it_refuses_a_file_that_is_not_utf8(self):
        with pytest.raises(csv_import.ImportFileError, match=r"not UTF-8 text \(byte 0xe9 on line 2\).*CSV UTF-8"):
            csv_import.decode(csv_of("caf\xe9@example.com,main-event,,,,").encode("latin-1"))

    def test_it_accepts_excels_byte_order_mark(self):
        assert csv_import.decode(b"\xef\xbb\xbf" + HEADER.encode()) == HEADER

    def test_it_refuses_binary_data(self):
        with pytest.raises(csv_import.ImportFileError, match="binary data"):
            csv_import.decode(b"PK\x03\x04\x00\x00 a zip file")

    def test_a_nul_past_the_first_64_kb_is_refused_too(self, admin_client, private_channel):
        """Found by tests/viewers/test_fuzz.py on PostgreSQL, which refuses NUL in queries and text columns (a 500)."""
        padding = "".join(f"user{i}@example.com,main-event,,,,\n" for i in range(3000))  # ~100 KB
        data = (HEADER + padding + "late@example.com,main-event,,,,\x00\n").encode()
        with pytest.raises(csv_import.ImportFileError, match="NUL"):
            csv_import.read_rows(csv_import.decode(data))
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = admin_client.post(
            "/admin/viewers/entitlement/import/", {"file": SimpleUploadedFile("g.csv", data, "text/csv")}
        )
        assert response.status_code == 200 and "NUL" in response.content.decode()

    def test_it_refuses_an_oversized_file_before_reading_it(self):
        with pytest.raises(csv_import.ImportFileError, match="the limit is 10 MB"):
            csv_import.decode(b"x" * (csv_import.MAX_FILE_BYTES + 1))

    def test_it_names_the_missing_columns(self):
        with pytest.raises(csv_import.ImportFileError, match="Missing columns: ends_at, note"):
            csv_import.read_rows("email,channel,starts_at,max_resolution\nalice@example.com,main-event,,\n")

    def test_it_accepts_common_header_spellings(self):
        rows = csv_import.read_rows("Email,Channel slug,Start,End,Resolution,Note\nA@x.org,main-event,,,hd,vip\n")
        assert (rows[0].email, rows[0].channel, rows[0].max_resolution, rows[0].note) == (
            "A@x.org",
            "main-event",
            "HD",
            "vip",
        )

    def test_it_refuses_an_empty_file_and_a_header_alone(self):
        with pytest.raises(csv_import.ImportFileError, match="empty"):
            csv_import.decode(b"  \n")
        with pytest.raises(csv_import.ImportFileError, match="no rows"):
            csv_import.read_rows(HEADER)

    def test_naive_dates_are_in_the_site_time_zone(self):
        row = csv_import.read_rows(csv_of("a@x.org,main-event,2026-03-01T18:00,2026-03-02,,"))[0]
        assert row.starts_at == timezone.make_aware(datetime(2026, 3, 1, 18, 0))
        assert row.ends_at == timezone.make_aware(datetime(2026, 3, 2))


@pytest.mark.django_db
class TestThePreview:
    def test_it_reports_every_kind_of_row_error_and_writes_nothing(self, alice, carol, private_channel):
        text = csv_of(
            "carol@example.com,main-event,2026-03-01,2026-04-01,SD,ok",
            "carol@example.com,nope,,,,",
            "carol@example.com,main-event,yesterday,,,",
            "carol@example.com,main-event,2026-04-01,2026-03-01,,",
            "carol@example.com,main-event,2026-03-01,2026-04-01,SD,dup",
            "not-an-email,main-event,,,,",
            "nobody@example.com,main-event,,,,",
            "carol@example.com,main-event,,,4K,",
        )
        before = Entitlement.objects.count()
        result = plan(text)
        errors = {row.line: [str(error) for error in row.errors] for row in result.errors}
        assert errors == {
            3: ["channel: no channel has the slug 'nope'"],
            4: ["starts_at: 'yesterday' is not a date"],
            5: ["ends_at: the end must be after the start"],
            6: ["duplicate of line 2"],
            7: ["email: 'not-an-email' is not an email address"],
            8: ["email: no user has this address"],
            9: ["max_resolution: '4K' is not one of SD, HD, FULL_HD, or empty for no limit"],
        }
        assert [row.line for row in result.new] == [2]
        assert Entitlement.objects.count() == before

    def test_it_matches_emails_without_regard_to_case(self, carol, private_channel):
        (row,) = plan(csv_of("CAROL@Example.COM,main-event,,,,")).rows
        assert row.status == "new" and row.user_id == carol.pk

    def test_it_marks_rows_already_granted_as_unchanged(self, alice, private_channel):
        (row,) = plan(csv_of("alice@example.com,main-event,,,,")).rows
        assert row.status == "unchanged"

    def test_a_revoked_grant_does_not_count_as_granted(self, frank, private_channel):
        (row,) = plan(csv_of("frank@example.com,main-event,,,,")).rows
        assert row.status == "new"

    def test_it_refuses_an_email_shared_by_two_users(self, private_channel):
        User.objects.create_user("one", "twin@example.com")
        User.objects.create_user("two", "Twin@example.com")
        (row,) = plan(csv_of("twin@example.com,main-event,,,,")).rows
        assert [str(error) for error in row.errors] == ["email: 2 users have this address; grant this row by hand"]


@pytest.mark.django_db
class TestImporting:
    def test_it_grants_and_the_access_rule_lets_the_viewer_in(self, carol, private_channel, admin_user):
        result = csv_import.import_entitlements(
            csv_of("carol@example.com,main-event,,,HD,ticket 42"), create_users=False, granted_by=admin_user
        )
        assert result["new"] == 1
        entitlement = Entitlement.objects.get(user=carol)
        assert (entitlement.max_resolution, entitlement.note, entitlement.created_by) == ("HD", "ticket 42", admin_user)
        decision = access.decide(carol, private_channel)
        assert decision.allowed and decision.max_resolution == "HD"

    def test_importing_the_same_file_twice_changes_nothing(self, carol, private_channel):
        text = csv_of(
            "carol@example.com,main-event,2026-03-01T10:00,2026-03-02T10:00,SD,",
            "new@example.com,main-event,,,,",
        )
        first = csv_import.import_entitlements(text, create_users=True)
        snapshot = list(Entitlement.objects.values_list("pk", "user_id", "starts_at", "ends_at", "note"))
        users = User.objects.count()
        second = csv_import.import_entitlements(text, create_users=True)
        assert (first["new"], first["invitations"]) == (2, 1)
        assert (second["new"], second["unchanged"], second["invitations"]) == (0, 2, 0)
        assert list(Entitlement.objects.values_list("pk", "user_id", "starts_at", "ends_at", "note")) == snapshot
        assert User.objects.count() == users

    def test_one_bad_row_means_nothing_is_written(self, carol, private_channel):
        text = csv_of("carol@example.com,main-event,,,,", "new@example.com,main-event,,,,", "x@y.org,gone,,,,")
        with pytest.raises(csv_import.ImportRefused) as refused:
            csv_import.import_entitlements(text, create_users=True)
        assert [row.line for row in refused.value.plan.errors] == [4]
        assert not Entitlement.objects.filter(user=carol).exists()
        assert not User.objects.filter(email="new@example.com").exists()

    def test_a_failure_while_writing_rolls_everything_back(self, carol, private_channel, monkeypatch):
        def explode(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(Entitlement.objects, "bulk_create", explode)
        with pytest.raises(RuntimeError):
            csv_import.import_entitlements(
                csv_of("carol@example.com,main-event,,,,", "new@example.com,main-event,,,,"), create_users=True
            )
        assert not User.objects.filter(email="new@example.com").exists()
        assert not Invitation.objects.exists()


@pytest.mark.django_db
class TestInvitations:
    def test_invited_users_are_inactive_until_they_set_a_password(self, client, private_channel):
        csv_import.import_entitlements(csv_of("newbie@example.com,main-event,,,,"), create_users=True)
        user = User.objects.get(email="newbie@example.com")
        assert not user.is_active and not user.has_usable_password()
        assert not access.decide(user, private_channel).allowed

        from viewers.operators.invitations import invitation_path

        landing = client.get(invitation_path(user), follow=True)
        assert landing.status_code == 200 and "Choose a password" in landing.content.decode()
        set_url = landing.redirect_chain[-1][0]
        done = client.post(set_url, {"new_password1": "a-long-pass-phrase", "new_password2": "a-long-pass-phrase"})
        assert done.status_code == 302
        user.refresh_from_db()
        assert user.is_active and user.check_password("a-long-pass-phrase")
        assert user.invitation.accepted_at is not None
        assert access.decide(user, private_channel).allowed
        # The link is spent once the password changed.
        assert "no longer works" in client.get(invitation_path_for_old_token(landing), follow=True).content.decode()

    def test_deactivating_an_ordinary_user_is_not_undone(self, carol):
        carol.is_active = False
        carol.save()
        carol.refresh_from_db()
        assert not carol.is_active


def invitation_path_for_old_token(landing):
    return landing.redirect_chain[0][0] if landing.redirect_chain else landing.request["PATH_INFO"]


@pytest.mark.django_db
class TestTheCommand:
    def run(self, tmp_path, text, *args, data=None):
        path = tmp_path / "grants.csv"
        if data is None:
            path.write_text(text, encoding="utf-8")
        else:
            path.write_bytes(data)
        out = StringIO()
        call_command("import_entitlements", str(path), *args, stdout=out)
        return out.getvalue()

    def test_it_imports_with_a_progress_bar(self, tmp_path, carol, private_channel):
        out = self.run(tmp_path, csv_of("carol@example.com,main-event,,,,"))
        assert "writing   [##############################]       1/1 rows" in out
        assert "Imported 1 new entitlement; 0 rows already granted; 0 users invited; 1 row read." in out
        assert re.search(r"^Took \d+ ms\.$", out, re.MULTILINE)  # not "0.0 s"
        assert Entitlement.objects.filter(user=carol).exists()

    def test_dry_run_writes_nothing(self, tmp_path, carol, private_channel):
        out = self.run(tmp_path, csv_of("carol@example.com,main-event,,,,"), "--dry-run", "--no-progress")
        assert "Would import 1 new entitlement;" in out
        assert not Entitlement.objects.filter(user=carol).exists()

    def test_it_lists_row_errors_and_fails(self, tmp_path, carol, private_channel):
        with pytest.raises(CommandError, match="Nothing was imported: 1 row with errors"):
            self.run(tmp_path, csv_of("carol@example.com,main-event,,,,", "carol@example.com,nope,,,,"))
        assert not Entitlement.objects.filter(user=carol).exists()

    def test_it_refuses_a_file_in_the_wrong_encoding(self, tmp_path, private_channel):
        with pytest.raises(CommandError, match="not UTF-8 text.*Nothing was imported"):
            self.run(tmp_path, "", data=csv_of("josé@example.com,main-event,,,,").encode("cp1252"))

    def test_it_refuses_a_missing_file_clearly(self, tmp_path, db):
        with pytest.raises(CommandError, match="Cannot read .*No such file"):
            call_command("import_entitlements", str(tmp_path / "nope.csv"))

    def test_it_writes_invitation_links_to_a_private_file(self, tmp_path, private_channel):
        links = tmp_path / "links.csv"
        out = self.run(
            tmp_path,
            csv_of("new@example.com,main-event,,,,"),
            "--invite",
            "--links-out",
            str(links),
            "--base-url",
            "https://watch.example.com/",
        )
        assert "written to" in out
        assert links.stat().st_mode & 0o777 == 0o600
        lines = links.read_text().splitlines()
        assert lines[0] == "\ufeffemail,password_set_link"
        assert lines[1].startswith("new@example.com,https://watch.example.com/accounts/reset/")
        assert "/accounts/reset/" not in out  # links go to the file only

    def test_the_links_file_escapes_formulas_like_every_export(self, tmp_path, private_channel):
        """An address may start with "=" (RFC 5322 allows it): a spreadsheet must not run it."""
        links = tmp_path / "links.csv"
        self.run(
            tmp_path,
            csv_of("=1+2@example.com,main-event,,,,"),
            "--invite",
            "--links-out",
            str(links),
            "--base-url",
            "https://watch.example.com/",
        )
        assert links.read_text().splitlines()[1].startswith("'=1+2@example.com,https://")
