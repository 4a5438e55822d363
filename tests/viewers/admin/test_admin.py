"""The admin, driven through the test client as the `admin_user` superuser."""

import uuid
from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.utils import timezone

from tests.factories import audit_row
from tests.visible_text import visible_text
from viewers.ivs import tokens
from viewers.models import Entitlement, PlaybackKey, TokenAudit, User

ENTITLEMENTS = "/admin/viewers/entitlement/"
KEYS = "/admin/viewers/playbackkey/"
AUDITS = "/admin/viewers/tokenaudit/"


@pytest.fixture
def audit(alice, private_channel, now):
    return audit_row(
        alice,
        private_channel,
        viewer_id=alice.viewer_id,
        single_use_uuid=uuid.uuid4(),
        issued_at=now,
        client_ip="203.0.113.9",
    )


def entitlement_of(user):
    return Entitlement.objects.get(user=user)


def changelist_rows(response):
    return list(response.context["cl"].result_list)


@pytest.mark.django_db
class TestPages:
    @pytest.mark.parametrize(
        "url",
        [
            "/admin/",
            "/admin/viewers/channel/",
            "/admin/viewers/channel/add/",
            ENTITLEMENTS,
            ENTITLEMENTS + "add/",
            KEYS,
            KEYS + "add/",
            AUDITS,
            "/admin/viewers/user/",
            "/admin/viewers/user/add/",
            "/admin/auth/group/",
        ],
    )
    def test_every_list_and_add_page_renders(self, admin_client, url, alice, bob, frank, audit, registered_key):
        assert admin_client.get(url).status_code == 200

    def test_every_change_page_renders(self, admin_client, alice, bob, audit, registered_key, private_channel):
        for url in [
            f"/admin/viewers/channel/{private_channel.pk}/change/",
            f"{ENTITLEMENTS}{entitlement_of(alice).pk}/change/",
            f"{ENTITLEMENTS}{Entitlement.objects.get(group__name='subscribers').pk}/change/",
            f"{KEYS}{registered_key.pk}/change/",
            f"{AUDITS}{audit.pk}/change/",
            f"/admin/viewers/user/{alice.pk}/change/",
        ]:
            assert admin_client.get(url).status_code == 200, url

    def test_the_user_page_shows_the_viewer_id_read_only(self, admin_client, alice):
        response = admin_client.get(f"/admin/viewers/user/{alice.pk}/change/")
        assert alice.viewer_id in response.content.decode()
        assert 'name="viewer_id"' not in response.content.decode()

    def test_the_key_page_shows_the_import_command(self, admin_client, registered_key):
        body = admin_client.get(f"{KEYS}{registered_key.pk}/change/").content.decode()
        assert "aws ivs import-playback-key-pair --name test-key" in body
        assert registered_key.fingerprint in body


@pytest.mark.django_db
class TestWhoGetsIn:
    def test_anonymous_visitors_are_sent_to_the_admin_login(self, client):
        response = client.get("/admin/")
        assert response.status_code == 302
        assert response["Location"] == "/admin/login/?next=/admin/"

    def test_a_viewer_who_is_not_staff_is_sent_away(self, client, alice):
        client.force_login(alice)
        response = client.get(ENTITLEMENTS)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")

    def test_staff_without_permissions_cannot_see_entitlements(self, client, sam):
        client.force_login(sam)
        assert client.get(ENTITLEMENTS).status_code == 403


@pytest.mark.django_db
class TestSearchAndFilters:
    def test_it_finds_entitlements_by_username(self, admin_client, alice, bob, carol):
        rows = changelist_rows(admin_client.get(ENTITLEMENTS, {"q": "alice"}))
        assert rows == [entitlement_of(alice)]

    def test_it_finds_entitlements_by_group_name(self, admin_client, alice, bob):
        rows = changelist_rows(admin_client.get(ENTITLEMENTS, {"q": "subscribers"}))
        assert [row.group.name for row in rows] == ["subscribers"]

    def test_it_filters_by_channel(self, admin_client, alice, public_channel):
        other = Entitlement.objects.create(user=User.objects.create_user("zoe"), channel=public_channel)
        rows = changelist_rows(admin_client.get(ENTITLEMENTS, {"channel__id__exact": public_channel.pk}))
        assert rows == [other]

    def test_it_shows_each_entitlement_status(self, admin_client, alice, dave, erin, frank):
        body = admin_client.get(ENTITLEMENTS).content.decode()
        for word in ("active", "ended", "upcoming", "revoked"):
            assert word in body

    def test_it_searches_channels_by_arn(self, admin_client, private_channel, public_channel):
        rows = changelist_rows(admin_client.get("/admin/viewers/channel/", {"q": "MainEvent01"}))
        assert rows == [private_channel]

    def test_it_filters_private_channels(self, admin_client, private_channel, public_channel):
        rows = changelist_rows(admin_client.get("/admin/viewers/channel/", {"is_private__exact": "0"}))
        assert rows == [public_channel]

    def test_it_searches_the_audit_by_ip(self, admin_client, audit, bob, private_channel, now):
        audit_row(bob, private_channel, issued_at=now, client_ip="198.51.100.1")
        rows = changelist_rows(admin_client.get(AUDITS, {"q": "203.0.113.9"}))
        assert rows == [audit]

    def test_it_searches_keys_by_fingerprint(self, admin_client, registered_key):
        other = PlaybackKey(name="other", public_key_pem=tokens.public_key_pem(tokens.generate_private_key()))
        other.full_clean()
        other.save()
        rows = changelist_rows(admin_client.get(KEYS, {"q": registered_key.fingerprint[:11]}))
        assert rows == [registered_key]


def run_action(client, action, entitlements, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [e.pk for e in entitlements], **extra}
    return client.post(ENTITLEMENTS, data)


def until_fields(until) -> dict:
    """The extend form's new end, as the admin's split date and time widget posts it."""
    local = timezone.localtime(until)
    return {"until_0": local.strftime("%Y-%m-%d"), "until_1": local.strftime("%H:%M")}


@pytest.mark.django_db
class TestRevokeAction:
    def test_it_asks_for_confirmation_first(self, admin_client, alice, bob):
        response = run_action(
            admin_client, "revoke", [entitlement_of(alice), Entitlement.objects.get(group__name="subscribers")]
        )
        assert response.status_code == 200
        assert "Revoke 2 entitlements, held by 2 viewers" in " ".join(visible_text(response.content.decode()).split())
        assert not entitlement_of(alice).is_revoked

    def test_it_revokes_only_the_selected_entitlements(self, admin_client, admin_user, alice, bob, carol):
        response = run_action(admin_client, "revoke", [entitlement_of(alice)], apply="Yes")
        assert response.status_code == 302
        revoked = entitlement_of(alice)
        assert revoked.revoked_at is not None
        assert revoked.revoked_by == admin_user
        assert not Entitlement.objects.get(group__name="subscribers").is_revoked

    def test_it_leaves_already_revoked_ones_as_they_were(self, admin_client, alice, frank):
        before = entitlement_of(frank).revoked_at
        response = run_action(admin_client, "revoke", [entitlement_of(alice), entitlement_of(frank)], apply="Yes")
        assert entitlement_of(frank).revoked_at == before
        assert entitlement_of(frank).revoked_by is None
        assert entitlement_of(alice).is_revoked
        messages = [str(m) for m in response.wsgi_request._messages]
        assert messages == ["Revoked 1 entitlement."]


@pytest.mark.django_db
class TestExtendAction:
    def test_it_asks_for_the_new_end_first(self, admin_client, alice):
        response = run_action(admin_client, "extend", [entitlement_of(alice)])
        assert response.status_code == 200
        assert "admin/viewers/entitlement/bulk_confirm.html" in [t.name for t in response.templates]
        body = response.content.decode()
        assert 'name="until_0"' in body and 'name="until_1"' in body and 'name="apply"' in body
        assert f'name="{ACTION_CHECKBOX_NAME}" value="{entitlement_of(alice).pk}"' in body
        assert entitlement_of(alice).ends_at is None

    def test_it_sets_the_new_end(self, admin_client, alice, bob):
        until = (timezone.localtime() + timedelta(days=30)).replace(second=0, microsecond=0)
        response = run_action(admin_client, "extend", [entitlement_of(alice)], apply="Extend", **until_fields(until))
        assert response.status_code == 302
        assert entitlement_of(alice).ends_at == until
        assert Entitlement.objects.get(group__name="subscribers").ends_at is None
        assert [str(m) for m in response.wsgi_request._messages] == ["Extended 1 entitlement."]

    def test_it_refuses_a_date_in_the_past(self, admin_client, dave):
        before = entitlement_of(dave).ends_at
        past = timezone.localtime() - timedelta(hours=1)
        response = run_action(admin_client, "extend", [entitlement_of(dave)], apply="Extend", **until_fields(past))
        assert response.status_code == 200
        assert "Choose a time in the future." in response.content.decode()
        assert entitlement_of(dave).ends_at == before

    def test_it_leaves_revoked_entitlements_alone(self, admin_client, frank):
        until = timezone.localtime() + timedelta(days=30)
        run_action(admin_client, "extend", [entitlement_of(frank)], apply="Extend", **until_fields(until))
        assert entitlement_of(frank).ends_at is None


@pytest.mark.django_db
class TestTokenAuditIsReadOnly:
    def test_it_offers_no_add(self, admin_client, audit):
        assert admin_client.get(AUDITS + "add/").status_code == 403
        assert f'href="{AUDITS}add/"' not in admin_client.get(AUDITS).content.decode()

    def test_it_refuses_changes(self, admin_client, audit):
        page = admin_client.get(f"{AUDITS}{audit.pk}/change/")
        assert page.status_code == 200
        assert 'name="_save"' not in page.content.decode()
        response = admin_client.post(f"{AUDITS}{audit.pk}/change/", {"viewer_id": "forged", "purpose": "forged"})
        assert response.status_code == 403
        audit.refresh_from_db()
        assert audit.viewer_id != "forged"

    def test_it_refuses_deletes(self, admin_client, audit):
        assert admin_client.post(f"{AUDITS}{audit.pk}/delete/", {"post": "yes"}).status_code == 403
        response = admin_client.post(AUDITS, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [audit.pk]})
        assert TokenAudit.objects.filter(pk=audit.pk).exists()
        assert response.status_code in (200, 302)

    def test_it_never_shows_a_token(self, admin_client, audit):
        body = admin_client.get(f"{AUDITS}{audit.pk}/change/").content.decode()
        assert "eyJ" not in body
