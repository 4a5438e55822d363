"""The admin, driven through the test client as the `admin_user` superuser."""

import uuid
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import PRIVATE_ARN, audit_row, playback_url_for
from viewers.ivs import tokens
from viewers.models import Channel, Entitlement, PlaybackKey, TokenAudit, User

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

    def test_it_filters_revoked_from_unrevoked(self, admin_client, alice, frank):
        revoked = changelist_rows(admin_client.get(ENTITLEMENTS, {"revoked_at__isempty": "0"}))
        unrevoked = changelist_rows(admin_client.get(ENTITLEMENTS, {"revoked_at__isempty": "1"}))
        assert revoked == [entitlement_of(frank)]
        assert unrevoked == [entitlement_of(alice)]

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


@pytest.mark.django_db
class TestRevokeAction:
    def test_it_asks_for_confirmation_first(self, admin_client, alice, bob):
        response = run_action(
            admin_client, "revoke", [entitlement_of(alice), Entitlement.objects.get(group__name="subscribers")]
        )
        assert response.status_code == 200
        assert "Revoke <b>2 entitlement(s)</b>, held by <b>2 viewer(s)</b>" in response.content.decode()
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
        assert messages == ["Revoked 1 entitlement(s)."]


@pytest.mark.django_db
class TestExtendAction:
    def test_it_asks_for_the_new_end_first(self, admin_client, alice):
        response = run_action(admin_client, "extend", [entitlement_of(alice)])
        assert response.status_code == 200
        assert "admin/viewers/entitlement/bulk_confirm.html" in [t.name for t in response.templates]
        body = response.content.decode()
        assert 'name="until"' in body and 'name="apply"' in body
        assert f'name="{ACTION_CHECKBOX_NAME}" value="{entitlement_of(alice).pk}"' in body
        assert entitlement_of(alice).ends_at is None

    def test_it_sets_the_new_end(self, admin_client, alice, bob):
        until = (timezone.localtime() + timedelta(days=30)).replace(second=0, microsecond=0)
        response = run_action(
            admin_client, "extend", [entitlement_of(alice)], apply="Extend", until=until.strftime("%Y-%m-%dT%H:%M")
        )
        assert response.status_code == 302
        assert entitlement_of(alice).ends_at == until
        assert Entitlement.objects.get(group__name="subscribers").ends_at is None
        assert [str(m) for m in response.wsgi_request._messages] == ["Extended 1 entitlement(s)."]

    def test_it_refuses_a_date_in_the_past(self, admin_client, dave):
        before = entitlement_of(dave).ends_at
        past = timezone.localtime() - timedelta(hours=1)
        response = run_action(
            admin_client, "extend", [entitlement_of(dave)], apply="Extend", until=past.strftime("%Y-%m-%dT%H:%M")
        )
        assert response.status_code == 200
        assert "Choose a time in the future." in response.content.decode()
        assert entitlement_of(dave).ends_at == before

    def test_it_leaves_revoked_entitlements_alone(self, admin_client, frank):
        until = timezone.localtime() + timedelta(days=30)
        run_action(
            admin_client, "extend", [entitlement_of(frank)], apply="Extend", until=until.strftime("%Y-%m-%dT%H:%M")
        )
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


def key_form(pem, name="new-key", **extra):
    regions = {"regions-TOTAL_FORMS": "0", "regions-INITIAL_FORMS": "0"}  # the "imported into regions" inline
    return {"name": name, "public_key_pem": pem, "is_active": "on", **regions, **extra}


@pytest.mark.django_db
class TestAddingAPlaybackKey:
    def test_a_good_p384_key_is_stored_with_its_fingerprint(self, admin_client):
        private = tokens.generate_private_key()
        response = admin_client.post(KEYS + "add/", key_form(tokens.public_key_pem(private)))
        assert response.status_code == 302
        key = PlaybackKey.objects.get(name="new-key")
        assert key.fingerprint == tokens.fingerprint(private)
        assert key.is_signing is False

    def test_a_p256_key_is_a_form_error(self, admin_client):
        pem = tokens.public_key_pem(ec.generate_private_key(ec.SECP256R1()))
        response = admin_client.post(KEYS + "add/", key_form(pem))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["public_key_pem"] == [
            "the key is on curve secp256r1; IVS needs P-384 (secp384r1)"
        ]
        assert not PlaybackKey.objects.exists()

    def test_garbage_is_a_form_error(self, admin_client):
        response = admin_client.post(KEYS + "add/", key_form("-----BEGIN PUBLIC KEY-----\nnope\n"))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["public_key_pem"] == [
            "the public key is not a valid PEM public key"
        ]
        assert not PlaybackKey.objects.exists()

    def test_a_private_key_pasted_by_mistake_is_a_form_error(self, admin_client):
        pem = tokens.private_key_pem(tokens.generate_private_key()).decode()
        response = admin_client.post(KEYS + "add/", key_form(pem))
        assert response.status_code == 200
        assert "public_key_pem" in response.context["adminform"].form.errors
        assert not PlaybackKey.objects.exists()

    def test_the_same_key_twice_is_a_form_error(self, admin_client, registered_key):
        response = admin_client.post(KEYS + "add/", key_form(registered_key.public_key_pem, name="again"))
        assert response.status_code == 200
        assert "already registered" in response.context["adminform"].form.errors["public_key_pem"][0]
        assert PlaybackKey.objects.count() == 1

    def test_a_second_signing_key_is_a_form_error(self, admin_client, registered_key):
        pem = tokens.public_key_pem(tokens.generate_private_key())
        response = admin_client.post(KEYS + "add/", key_form(pem, is_signing="on"))
        assert response.status_code == 200
        assert response.context["adminform"].form.errors
        assert PlaybackKey.objects.count() == 1


@pytest.mark.django_db
class TestAddingAChannel:
    def form(self, **fields):
        values = {
            "name": "Main Event",
            "slug": "main-event",
            "arn": PRIVATE_ARN,
            "playback_url": playback_url_for(PRIVATE_ARN),
            "is_private": "on",
            "is_listed": "on",
            "description": "",
        }
        return values | fields

    def test_it_adds_a_channel(self, admin_client):
        assert admin_client.post("/admin/viewers/channel/add/", self.form()).status_code == 302
        assert Channel.objects.get().arn == PRIVATE_ARN

    def test_it_refuses_a_playback_url_of_another_channel(self, admin_client):
        form = self.form(arn="arn:aws:ivs:us-west-2:123456789012:channel/OtherChan01")
        response = admin_client.post("/admin/viewers/channel/add/", form)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["playback_url"] == [
            "This playback URL belongs to a different channel than the ARN."
        ]
        assert not Channel.objects.exists()


def make_entitlements(count):
    """`count` entitlements spread over users, groups and channels, so lazy loading would show."""
    channels = [
        Channel.objects.create(
            name=f"Channel {i}",
            slug=f"c{i}",
            arn=f"arn:aws:ivs:us-west-2:123456789012:channel/Chan{i:03d}",
            playback_url=playback_url_for(f"arn:aws:ivs:us-west-2:123456789012:channel/Chan{i:03d}"),
        )
        for i in range(Channel.objects.count(), Channel.objects.count() + 3)
    ]
    start = Entitlement.objects.count()
    for i in range(start, start + count):
        channel = channels[i % len(channels)]
        if i % 2:
            group = Group.objects.create(name=f"group-{i}")
            Entitlement.objects.create(group=group, channel=channel, ends_at=timezone.now() + timedelta(days=1))
        else:
            user = User.objects.create_user(f"user-{i}")
            Entitlement.objects.create(user=user, channel=channel, revoked_at=timezone.now() if i % 4 == 0 else None)


def make_audits(count, now):
    user = User.objects.create_user(f"watcher-{TokenAudit.objects.count()}")
    for i in range(count):
        arn = f"arn:aws:ivs:us-west-2:123456789012:channel/Aud{TokenAudit.objects.count():04d}"
        channel = Channel.objects.create(
            name=arn, slug=arn.rsplit("/", 1)[1].lower(), arn=arn, playback_url=playback_url_for(arn)
        )
        audit_row(user if i % 2 else None, channel, issued_at=now)


def queries_for(client, url):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context)


@pytest.mark.django_db
class TestQueryCounts:
    def test_the_entitlement_list_does_not_grow_with_its_rows(self, admin_client, django_assert_max_num_queries):
        make_entitlements(5)
        with_five = queries_for(admin_client, ENTITLEMENTS)
        make_entitlements(45)
        with django_assert_max_num_queries(with_five):
            response = admin_client.get(ENTITLEMENTS)
        assert len(changelist_rows(response)) == 50

    def test_the_audit_list_does_not_grow_with_its_rows(self, admin_client, now, django_assert_max_num_queries):
        make_audits(5, now)
        with_five = queries_for(admin_client, AUDITS)
        make_audits(45, now)
        with django_assert_max_num_queries(with_five):
            response = admin_client.get(AUDITS)
        assert len(changelist_rows(response)) == 50


@pytest.mark.django_db
class TestChangingAChannelWhileViewersWatch:
    """Deleting, re-pointing or making public a channel ends the sessions its tokens opened; the admin says so first,
    and the token audit outlives the channel."""

    CHANNEL = "/admin/viewers/channel/"

    @pytest.fixture
    def watched(self, alice, bob, private_channel):
        return [audit_row(alice, private_channel, viewer_id=alice.viewer_id) for _ in range(2)] + [
            audit_row(bob, private_channel, viewer_id=bob.viewer_id)
        ]

    def test_the_delete_confirmation_says_who_is_watching_and_that_they_will_be_stopped(
        self, admin_client, private_channel, watched
    ):
        page = admin_client.get(f"{self.CHANNEL}{private_channel.pk}/delete/").content.decode()
        assert "2 viewers may be watching now (3 playback sessions" in page
        assert "Deleting stops those streams within a few seconds" in page
        assert "token audit keeps its rows" in page

    def test_one_viewer_reads_in_the_singular(self, admin_client, private_channel, alice):
        audit_row(alice, private_channel, viewer_id=alice.viewer_id)
        page = admin_client.get(f"{self.CHANNEL}{private_channel.pk}/delete/").content.decode()
        assert "1 viewer may be watching now (1 playback session started" in page
        assert "Deleting stops that stream" in page

    def test_deleting_keeps_the_audit_and_ends_the_sessions(self, admin_client, private_channel, watched, worker):
        response = admin_client.post(f"{self.CHANNEL}{private_channel.pk}/delete/", {"post": "yes"})
        assert response.status_code == 302 and not Channel.objects.exists()
        worker()
        rows = TokenAudit.objects.all()
        assert rows.count() == 3
        assert {(row.channel_id, row.channel_name, row.channel_arn) for row in rows} == {
            (None, "Main Event", PRIVATE_ARN)
        }
        assert all(row.end_reason == "revoked" for row in rows)
        assert "Main Event (deleted)" in admin_client.get(AUDITS).content.decode()

    def test_the_bulk_delete_says_who_is_watching(self, admin_client, private_channel, public_channel, watched):
        data = {"action": "delete_selected", ACTION_CHECKBOX_NAME: [private_channel.pk, public_channel.pk]}
        page = admin_client.post(self.CHANNEL, data).content.decode()
        assert "2 viewers may be watching now" in page
        admin_client.post(self.CHANNEL, {**data, "post": "yes"})
        assert not Channel.objects.exists() and TokenAudit.objects.count() == 3

    def test_view_only_staff_cannot_delete(self, client, private_channel, watched):
        looker = User.objects.create_user("looker", password="x", is_staff=True)
        looker.user_permissions.add(*Permission.objects.filter(codename__startswith="view_"))
        client.force_login(looker)
        assert client.get(f"{self.CHANNEL}{private_channel.pk}/delete/").status_code == 403
        client.post(self.CHANNEL, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [private_channel.pk]})
        assert Channel.objects.filter(pk=private_channel.pk).exists()

    def test_re_pointing_says_the_streams_on_the_old_arn_are_being_stopped(
        self, admin_client, private_channel, watched
    ):
        new_arn = PRIVATE_ARN.replace("MainEvent01", "MainEvent02")
        form = {
            "name": private_channel.name,
            "slug": private_channel.slug,
            "arn": new_arn,
            "playback_url": playback_url_for(new_arn),
            "is_private": "on",
            "is_listed": "on",
        }
        response = admin_client.post(f"{self.CHANNEL}{private_channel.pk}/change/", form, follow=True)
        assert Channel.objects.get().arn == new_arn
        assert "2 viewers watching Main Event played its old ARN: IVS is told to stop those streams" in (
            response.content.decode()
        )

    def test_making_it_public_says_the_private_streams_are_being_stopped(self, admin_client, private_channel, watched):
        form = {
            "name": private_channel.name,
            "slug": private_channel.slug,
            "arn": private_channel.arn,
            "playback_url": private_channel.playback_url,
            "is_listed": "on",
        }
        response = admin_client.post(f"{self.CHANNEL}{private_channel.pk}/change/", form, follow=True)
        assert not Channel.objects.get().is_private
        assert "played its old private stream" in response.content.decode()
        assert "each player then loads the channel&#x27;s public stream" in response.content.decode()
