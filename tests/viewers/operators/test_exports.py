"""CSV exports: what the admin list shows, as CSV, with formula injection defused."""

import csv
import io
import uuid

import pytest

from tests.factories import audit_row
from viewers.ivs import signing_keys
from viewers.models import Entitlement, User
from viewers.operators.exports import safe_cell

ENTITLEMENTS = "/admin/viewers/entitlement/"
AUDITS = "/admin/viewers/tokenaudit/"


def read_csv(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


class TestSafeCell:
    @pytest.mark.parametrize("value", ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
    def test_it_defuses_cells_that_a_spreadsheet_would_run(self, value):
        assert safe_cell(value) == "'" + value

    @pytest.mark.parametrize("value", ["alice@example.com", "ticket 1", "", "a=b"])
    def test_it_leaves_plain_text_alone(self, value):
        assert safe_cell(value) == value

    def test_none_is_empty_and_numbers_are_text(self):
        assert (safe_cell(None), safe_cell(42)) == ("", "42")


@pytest.mark.django_db
class TestEntitlementExport:
    def test_it_exports_what_the_filtered_list_shows(self, admin_client, alice, bob, frank, public_channel):
        zoe = User.objects.create_user("zoe", "=cmd|' /C calc'!A0@example.com")
        Entitlement.objects.create(user=zoe, channel=public_channel, note="@SUM(1+1)")
        rows = read_csv(admin_client.get(ENTITLEMENTS + "export.csv", {"channel__id__exact": public_channel.pk}))
        assert rows[0][:5] == ["id", "username", "email", "group", "channel"]
        assert len(rows) == 2
        assert rows[1][1:3] == ["zoe", "'=cmd|' /C calc'!A0@example.com"]
        assert rows[1][9] == "'@SUM(1+1)"

    def test_it_follows_search_and_the_status_filter(self, admin_client, alice, frank):
        rows = read_csv(admin_client.get(ENTITLEMENTS + "export.csv", {"status": "revoked"}))
        assert [row[1] for row in rows[1:]] == ["frank"]
        assert rows[1][8] == "revoked"
        rows = read_csv(admin_client.get(ENTITLEMENTS + "export.csv", {"q": "alice"}))
        assert [row[1] for row in rows[1:]] == ["alice"]

    def test_the_list_page_links_to_the_export_with_its_filters(self, admin_client, alice, private_channel):
        body = admin_client.get(ENTITLEMENTS, {"channel__id__exact": private_channel.pk}).content.decode()
        assert f'href="{ENTITLEMENTS}export.csv?channel__id__exact={private_channel.pk}"' in body

    def test_a_bad_filter_is_a_message_not_a_500(self, admin_client, alice):
        response = admin_client.get(ENTITLEMENTS + "export.csv", {"nonsense__field": "1"})
        assert response.status_code == 302

    def test_it_needs_permission(self, client, sam):
        client.force_login(sam)
        assert client.get(ENTITLEMENTS + "export.csv").status_code == 403


@pytest.mark.django_db
class TestAuditExport:
    def test_it_exports_the_filtered_audit_without_any_token(
        self, admin_client, alice, private_channel, public_channel, now
    ):
        for channel, agent in [(private_channel, "=evil()"), (public_channel, "Firefox")]:
            audit_row(
                alice,
                channel,
                viewer_id=alice.viewer_id,
                single_use_uuid=uuid.uuid4(),
                issued_at=now,
                client_ip="203.0.113.9",
                user_agent=agent,
            )
        rows = read_csv(admin_client.get(AUDITS + "export.csv", {"channel__id__exact": private_channel.pk}))
        assert rows[0][:3] == ["issued_at", "expires_at", "user_username"]
        assert len(rows) == 2
        header = rows[0]
        row = dict(zip(header, rows[1], strict=True))
        assert row["user_username"] == "alice" and row["channel_slug"] == "main-event"
        assert row["channel_name"] == "Main Event" and row["channel_arn"] == private_channel.arn
        assert row["key_fingerprint"] == signing_keys.signing_fingerprint()
        assert row["user_agent"] == "'=evil()"
        assert not any("eyJ" in cell for row in rows for cell in row)

    def test_the_audit_list_links_to_the_export(self, admin_client):
        assert f'href="{AUDITS}export.csv?' in admin_client.get(AUDITS, {"purpose": "page"}).content.decode()
