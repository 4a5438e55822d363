"""Admin permissions that mean what they say: each action and operations page needs the permission for what it does,
and what cannot be checked in a form changes only through the steps that check it."""

import csv
import io

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission

from tests.factories import revocation_row
from viewers.ivs import tokens
from viewers.models import EntitlementImport, Invitation, PlaybackKey, PlaybackKeyRegion, User
from viewers.operators import csv_import

HEADER = "email,channel,starts_at,ends_at,max_resolution,note\n"
INVITATIONS = "/admin/viewers/invitation/"
KEYS = "/admin/viewers/playbackkey/"
ARN_PREFIX = "arn:aws:ivs:us-west-2:123456789012:playback-key"


def staff_with(*codenames, username="clerk"):
    user = User.objects.create_user(username, f"{username}@example.com", "password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def viewer_only(db):
    """Staff holding every view_* permission and nothing else."""
    user = User.objects.create_user("looker", "looker@example.com", "password", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
    return user


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().removeprefix("\ufeff"))))


@pytest.mark.django_db
class TestInvitationLinks:
    """Password-set links are credentials for the accounts they activate."""

    @pytest.fixture
    def invitation(self, private_channel):
        csv_import.import_entitlements(HEADER + "new@example.com,main-event,,,,\n", create_users=True)
        return Invitation.objects.get()

    def test_view_only_staff_get_no_links(self, client, viewer_only, invitation):
        client.force_login(viewer_only)
        response = client.post(INVITATIONS, {"action": "download_links", ACTION_CHECKBOX_NAME: [invitation.pk]})
        assert not response.streaming
        assert "/accounts/reset/" not in response.content.decode()
        assert 'value="download_links"' not in client.get(INVITATIONS).content.decode()

    def test_staff_who_may_change_users_get_them_and_the_export_is_logged_without_links(self, client, invitation):
        clerk = staff_with("view_invitation", "change_user")
        client.force_login(clerk)
        response = client.post(INVITATIONS, {"action": "download_links", ACTION_CHECKBOX_NAME: [invitation.pk]})
        (_, (email, link)) = csv_rows(response)
        assert email == "new@example.com" and "/accounts/reset/" in link
        entry = LogEntry.objects.get(user=clerk)
        assert entry.object_id == str(invitation.pk)
        assert "password-set link" in entry.get_change_message()
        assert "/accounts/reset/" not in entry.change_message


@pytest.mark.django_db
def test_view_only_staff_cannot_requeue_revocations(client, viewer_only, private_channel):
    """Re-queueing a failed revocation calls IVS again: it needs the change permission, which view-only staff lack."""
    failed = revocation_row(
        channel=private_channel, viewer_id="v" * 32, max_version=7, reason="revoked", status="failed"
    )
    client.force_login(viewer_only)
    client.post("/admin/viewers/revocation/", {"action": "retry_now", ACTION_CHECKBOX_NAME: [failed.pk]})
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("failed", 0)


@pytest.mark.django_db
class TestPlaybackKeyChangeForm:
    """After creation the key material, its IVS ARN and the signing flag change only through the
    rotation steps, which check that the site signs with the key and that the tokens it signed have expired."""

    @pytest.fixture
    def other_key(self, db):
        key = PlaybackKey(name="other", public_key_pem=tokens.public_key_pem(tokens.generate_private_key()))
        key.full_clean()
        key.save()
        return key

    def post_change(self, client, key, regions=(), **fields):
        """The change form as a browser posts it, with the key's region rows (the "imported into" inline)."""
        records = list(key.regions.all())
        form = {
            "name": key.name,
            "public_key_pem": key.public_key_pem,
            "is_active": "on" if key.is_active else "",
            "is_signing": "on" if key.is_signing else "",
            "regions-TOTAL_FORMS": str(len(records) + len(regions)),
            "regions-INITIAL_FORMS": str(len(records)),
        }
        for i, record in enumerate(records):
            form |= {f"regions-{i}-id": str(record.pk), f"regions-{i}-key": str(key.pk), f"regions-{i}-arn": record.arn}
        for i, arn in enumerate(regions, start=len(records)):
            form |= {f"regions-{i}-key": str(key.pk), f"regions-{i}-arn": arn}
        return client.post(f"{KEYS}{key.pk}/change/", form | fields)

    def test_ticking_signing_on_the_form_changes_nothing(self, admin_client, other_key):
        self.post_change(admin_client, other_key, is_signing="on")
        assert not PlaybackKey.objects.filter(is_signing=True).exists()

    def test_unticking_signing_on_the_live_key_changes_nothing(self, admin_client, registered_key):
        self.post_change(admin_client, registered_key, is_signing="")
        registered_key.refresh_from_db()
        assert registered_key.is_signing and registered_key.signing_stopped_at is None

    def test_the_live_key_cannot_be_deactivated(self, admin_client, registered_key):
        self.post_change(admin_client, registered_key, is_active="")
        registered_key.refresh_from_db()
        assert registered_key.is_active

    def test_the_public_key_cannot_be_replaced(self, admin_client, other_key):
        before = other_key.public_key_pem
        self.post_change(admin_client, other_key, public_key_pem=tokens.public_key_pem(tokens.generate_private_key()))
        other_key.refresh_from_db()
        assert other_key.public_key_pem == before

    def test_a_recorded_ivs_arn_can_be_neither_replaced_nor_removed(self, admin_client, other_key):
        """retire() deletes the key pair at each recorded ARN from IVS: swapping in the live key's ARN would delete
        the key the site still signs with."""
        record = PlaybackKeyRegion.objects.create(key=other_key, arn=f"{ARN_PREFIX}/AbCdEf123456")
        response = self.post_change(admin_client, other_key, **{"regions-0-arn": f"{ARN_PREFIX}/Live01"})
        assert "cannot be changed" in response.content.decode()
        self.post_change(admin_client, other_key, **{"regions-0-DELETE": "on"})
        record.refresh_from_db()
        assert record.arn.endswith("/AbCdEf123456")

    def test_an_arn_for_a_key_imported_by_hand_may_still_be_added(self, admin_client, other_key):
        response = self.post_change(admin_client, other_key, regions=[f"{ARN_PREFIX}/Fresh01"])
        assert response.status_code == 302
        assert other_key.regions.get().arn.endswith("/Fresh01")

    def test_the_form_says_why_the_fields_are_read_only(self, admin_client, registered_key):
        page = admin_client.get(f"{KEYS}{registered_key.pk}/change/").content.decode()
        assert "only through the rotation steps" in page

    def test_a_new_key_may_be_marked_signing_only_if_the_site_signs_with_it(self, admin_client, signing_key):
        stranger = tokens.public_key_pem(tokens.generate_private_key())
        form = {"name": "stranger", "public_key_pem": stranger, "is_active": "on", "is_signing": "on"}
        form |= {"regions-TOTAL_FORMS": "0", "regions-INITIAL_FORMS": "0"}
        response = admin_client.post(f"{KEYS}add/", form)
        assert "is_signing" in response.context["adminform"].form.errors
        assert not PlaybackKey.objects.exists()
        form |= {"name": "ours", "public_key_pem": tokens.public_key_pem(signing_key)}
        assert admin_client.post(f"{KEYS}add/", form).status_code == 302
        assert PlaybackKey.objects.get().is_signing


@pytest.mark.django_db
class TestStagedImportsThatInviteUsers:
    """An import that creates users needs the permission to create users, at confirmation too."""

    @pytest.fixture
    def staged(self, admin_user, private_channel):
        return EntitlementImport.objects.create(
            filename="grants.csv",
            content=HEADER + "new@example.com,main-event,,,,\n",
            create_users=True,
            created_by=admin_user,
        )

    def test_staff_who_may_only_add_entitlements_cannot_confirm_it(self, client, staged):
        client.force_login(staff_with("add_entitlement", "view_entitlement"))
        url = f"/admin/viewers/entitlement/import/{staged.pk}/"
        assert client.post(url, {"confirm": "1"}).status_code == 403
        assert not User.objects.filter(email="new@example.com").exists()
        staged.refresh_from_db()
        assert staged.applied_at is None

    def test_with_the_permission_to_add_users_it_imports(self, client, staged):
        client.force_login(staff_with("add_entitlement", "view_entitlement", "add_user"))
        client.post(f"/admin/viewers/entitlement/import/{staged.pk}/", {"confirm": "1"})
        assert User.objects.filter(email="new@example.com", is_active=False).exists()


@pytest.mark.django_db
class TestChangingUsersIsNotBecomingSuperuser:
    """Like password-set links: change_user (now needed for invitation links) must not mean "become a superuser"."""

    @pytest.fixture
    def clerk(self, client):
        clerk = staff_with("view_user", "change_user")
        client.force_login(clerk)
        return clerk

    def test_it_cannot_set_a_superusers_password(self, client, clerk, admin_user):
        form = {"password1": "Taken-over-77", "password2": "Taken-over-77", "usable_password": "true"}
        assert client.post(f"/admin/viewers/user/{admin_user.pk}/password/", form).status_code == 403
        admin_user.refresh_from_db()
        assert admin_user.check_password("password")

    def test_it_cannot_make_anyone_a_superuser_or_grant_permissions(self, client, clerk):
        form = {
            "username": "clerk",
            "email": "clerk@example.com",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "user_permissions": list(Permission.objects.values_list("pk", flat=True)),
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
        client.post(f"/admin/viewers/user/{clerk.pk}/change/", form)
        clerk.refresh_from_db()
        assert not clerk.is_superuser
        assert clerk.user_permissions.count() == 2

    def test_it_still_edits_viewers(self, client, clerk, carol):
        form = {
            "username": "carol",
            "email": "carol@new.example.com",
            "is_active": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        }
        assert client.post(f"/admin/viewers/user/{carol.pk}/change/", form).status_code == 302
        carol.refresh_from_db()
        assert carol.email == "carol@new.example.com"
