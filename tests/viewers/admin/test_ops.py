"""The admin's operations pages through the test client: bulk import and invitations; and query counts on every
admin list page. (Group grants and the bulk actions: test_group_grant.py, test_bulk_actions.py.)"""

import csv
import io
import uuid

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import audit_row, playback_url_for, revocation_row
from viewers.ivs import key_rotation
from viewers.models import Channel, Entitlement, EntitlementImport, Invitation, User
from viewers.operators import csv_import

ENTITLEMENTS = "/admin/viewers/entitlement/"
IMPORT = ENTITLEMENTS + "import/"
HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def upload(client, content: bytes, name="grants.csv", **fields):
    return client.post(IMPORT, {"file": SimpleUploadedFile(name, content, "text/csv"), **fields})


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


@pytest.mark.django_db
class TestImportPage:
    def test_it_shows_the_form_and_the_expected_columns(self, admin_client):
        body = admin_client.get(IMPORT).content.decode()
        assert 'type="file"' in body and "email,channel,starts_at,ends_at,max_resolution,note" in body

    def test_upload_preview_confirm(self, admin_client, admin_user, carol, private_channel):
        response = upload(
            admin_client,
            (HEADER + "carol@example.com,main-event,,,SD,\nnew@example.com,main-event,,,,\n").encode(),
            create_users="on",
        )
        assert response.status_code == 302
        staged = EntitlementImport.objects.get()
        preview = admin_client.get(response["Location"])
        body = preview.content.decode()
        assert "<b>2 rows</b> read" in body and "2 new" in body and "1 user to invite" in body
        assert 'name="confirm"' in body
        assert not Entitlement.objects.filter(user=carol).exists()  # the preview writes nothing

        done = admin_client.post(response["Location"], {"confirm": "1"})
        assert done.status_code == 302
        assert messages_of(done)[0] == (
            "Imported 2 new entitlements; 0 rows already granted, left alone; 1 user invited."
        )
        assert Entitlement.objects.get(user=carol).created_by == admin_user
        assert Invitation.objects.get().user.email == "new@example.com"
        staged.refresh_from_db()
        assert staged.applied_at and staged.content == "" and staged.summary["new"] == 2
        # Confirming again (a double click) imports nothing more.
        admin_client.post(response["Location"], {"confirm": "1"})
        assert Entitlement.objects.count() == 2

    def test_the_same_file_twice_has_nothing_to_import(self, admin_client, carol, private_channel):
        content = (HEADER + "carol@example.com,main-event,,,,\n").encode()
        first = upload(admin_client, content)
        admin_client.post(first["Location"], {"confirm": "1"})
        second = upload(admin_client, content)
        body = admin_client.get(second["Location"]).content.decode()
        assert "0 new" in body and "1 already granted" in body and "nothing to import" in body
        assert Entitlement.objects.filter(user=carol).count() == 1

    def test_row_errors_are_listed_and_block_the_import(self, admin_client, carol, private_channel):
        response = upload(
            admin_client, (HEADER + "carol@example.com,main-event,,,,\nghost@example.com,nope,soon,,,\n").encode()
        )
        body = admin_client.get(response["Location"]).content.decode()
        assert "no channel has the slug &#x27;nope&#x27;" in body and "&#x27;soon&#x27; is not a date" in body
        assert "no user has this address" in body
        assert 'name="confirm"' not in body
        refused = admin_client.post(response["Location"], {"confirm": "1"})
        assert refused.status_code == 302
        assert not Entitlement.objects.filter(user=carol).exists()

    @pytest.mark.parametrize(
        "content,message",
        [
            ((HEADER + "josé@example.com,main-event,,,,\n").encode("latin-1"), "not UTF-8 text"),
            (b"email,channel\nalice@example.com,main-event\n", "Missing columns: starts_at, ends_at"),
            (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary data"),
            (b"", "The submitted file is empty."),
            (HEADER.encode(), "a header but no rows"),
        ],
    )
    def test_a_malformed_file_is_a_clear_message_and_nothing_is_written(
        self, admin_client, private_channel, content, message
    ):
        response = upload(admin_client, content)
        assert response.status_code == 200
        assert message in response.content.decode()
        assert not EntitlementImport.objects.exists() and not Entitlement.objects.exists()

    def test_a_100_mb_upload_is_refused_without_being_read(self, admin_client, private_channel):
        big = HEADER.encode() + b"x@example.com,main-event,,,,\n" * (100 * 1024 * 1024 // 29)
        assert len(big) > 100 * 1000 * 1000
        response = upload(admin_client, big)
        assert response.status_code == 200
        assert "The file is larger than 10 MB" in response.content.decode()
        assert not EntitlementImport.objects.exists()

    def test_the_upload_is_still_csrf_protected(self, client, admin_user, private_channel):
        client = type(client)(enforce_csrf_checks=True)
        client.force_login(admin_user)
        response = upload(client, (HEADER + "a@b.org,main-event,,,,\n").encode())
        assert response.status_code == 403
        assert not EntitlementImport.objects.exists()

    def test_inviting_needs_permission_to_add_users(self, client, private_channel):
        clerk = User.objects.create_user("clerk", is_staff=True)
        clerk.user_permissions.add(*Permission.objects.filter(codename__in=["add_entitlement", "view_entitlement"]))
        client.force_login(clerk)
        assert upload(client, (HEADER + "a@b.org,main-event,,,,\n").encode(), create_users="on").status_code == 403
        assert upload(client, (HEADER + "a@b.org,main-event,,,,\n").encode()).status_code == 302

    def test_staff_without_permission_cannot_import(self, client, sam):
        client.force_login(sam)
        assert client.get(IMPORT).status_code == 403

    def test_the_list_links_to_the_import(self, admin_client):
        assert f'href="{IMPORT}"' in admin_client.get(ENTITLEMENTS).content.decode()


@pytest.mark.django_db
class TestInvitationLinks:
    def test_the_admin_downloads_links_that_work(self, admin_client, client, private_channel):
        csv_import.import_entitlements(HEADER + "new@example.com,main-event,,,,\n", create_users=True)
        invitation = Invitation.objects.get()
        response = admin_client.post(
            "/admin/viewers/invitation/", {"action": "download_links", ACTION_CHECKBOX_NAME: [invitation.pk]}
        )
        text = b"".join(response.streaming_content).decode().removeprefix("\ufeff")
        (header, (email, link)) = list(csv.reader(io.StringIO(text)))
        assert email == "new@example.com" and link.startswith("http://testserver/accounts/reset/")
        assert "no-store" in response["Cache-Control"]
        path = link.removeprefix("http://testserver")
        landing = client.get(path, follow=True)
        assert "Choose a password" in landing.content.decode()


@pytest.mark.django_db
class TestImportHistory:
    def test_the_history_lists_imports(self, admin_client, carol, private_channel):
        imports_page = "/admin/viewers/entitlementimport/"
        staged = EntitlementImport.objects.create(
            filename="a.csv", content=HEADER + "carol@example.com,main-event,,,,\n"
        )
        body = admin_client.get(imports_page).content.decode()
        assert "a.csv" in body and f"{IMPORT}{staged.pk}/" in body


# --- Query counts on every admin list page ---------------------------------------------------------------


def grow(n, now):
    """n more of everything that has an admin list."""
    base = Channel.objects.count()
    for i in range(base, base + n):
        arn = f"arn:aws:ivs:us-west-2:123456789012:channel/Grow{i:04d}"
        channel = Channel.objects.create(
            name=f"Grow {i}", slug=f"grow-{i}", arn=arn, playback_url=playback_url_for(arn)
        )
        user = User.objects.create_user(f"grow-{i}", f"grow-{i}@example.com")
        group = Group.objects.create(name=f"grow-group-{i}")
        user.groups.add(group)
        Entitlement.objects.create(user=user, channel=channel, created_by=user)
        Entitlement.objects.create(group=group, channel=channel, revoked_at=now, revoked_by=user)
        audit_row(user, channel, issued_at=now, single_use_uuid=uuid.uuid4())
        Invitation.objects.create(user=User.objects.create_user(f"invitee-{i}", is_active=False), created_by=user)
        EntitlementImport.objects.create(
            filename=f"{i}.csv", content="x", created_by=user, applied_at=now, summary={"new": 1}
        )
        key_rotation.generate(f"grow-key-{i}")
        revocation_row(channel=channel, viewer_id=user.viewer_id, max_version=1, reason="revoked")


LIST_PAGES = [
    "/admin/viewers/channel/",
    "/admin/viewers/entitlement/",
    "/admin/viewers/playbackkey/",
    "/admin/viewers/tokenaudit/",
    "/admin/viewers/user/",
    "/admin/viewers/invitation/",
    "/admin/viewers/entitlementimport/",
    "/admin/auth/group/",
    "/admin/viewers/revocation/",
]


@pytest.mark.django_db
@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_cost_the_same_queries_with_more_rows(admin_client, url, now):
    grow(3, now)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    grow(20, now)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) >= 20
    assert len(many) <= len(few), [q["sql"] for q in many.captured_queries]
