"""manage.py demo and ivs_verify, through call_command."""

import time
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.checks import run_checks
from django.core.management import CommandError, call_command
from django.utils import timezone

from localivs import state
from localivs.models import SpentToken
from tests.factories import PRIVATE_ARN, playback_url_for
from viewers.ivs import key_rotation, signing_keys, tokens
from viewers.management.commands import ivs_verify
from viewers.models import Channel, ChatRoom, Entitlement, PlaybackKey, User

pytestmark = pytest.mark.django_db


class TestDemo:
    def test_it_refuses_without_debug(self, settings):
        settings.DEBUG = False
        with pytest.raises(CommandError, match="DEBUG"):
            call_command("demo")
        assert not User.objects.exists()

    def test_it_seeds_everything_once_and_prints_the_logins(self, settings, capsys):
        settings.DEBUG = True
        call_command("demo", "--origin", "http://127.0.0.1:8123")
        call_command("demo", "--origin", "http://127.0.0.1:8123")  # idempotent
        out = capsys.readouterr().out
        assert "viewer " in out and "stranger" in out and "watch-the-demo" in out
        assert (
            "idp-viewer" in out and "Log in with Local IdP" in out
        )  # the local IdP is on in the tests, as in make run
        assert User.objects.count() == 5  # the IdP user is the IdP's: the site makes its user at the first login
        assert Channel.objects.count() == 2
        # viewer's, moderator's, sd-subscribers' and the IdP group demo-viewers'
        assert Entitlement.objects.count() == 4
        moderator = User.objects.get(username="moderator")
        assert moderator.has_perm("viewers.moderate_chat") and not moderator.is_staff
        assert ChatRoom.objects.get().channel.slug == "demo-event"  # the worker creates it at the local IVS Chat
        assert Entitlement.objects.filter(group__idp_group__display_name="demo-viewers").exists()
        assert PlaybackKey.objects.get().is_signing
        event = Channel.objects.get(slug="demo-event")
        assert event.is_private and event.playback_url.startswith("http://127.0.0.1:8123/ivs/api/video/v1/")
        assert User.objects.get(username="admin").is_superuser

    def test_the_demo_viewer_gets_a_token_the_local_origin_accepts(self, settings, client):
        settings.DEBUG = True
        call_command("demo", "--origin", "http://127.0.0.1:8000")
        # Through the login form: the lockout backend (django-axes) needs the request that Client.login() omits.
        assert client.post("/accounts/login/", {"username": "viewer", "password": "watch-the-demo"}).status_code == 302
        page = client.get("/channels/demo-event/").content.decode()
        url = page.split('"playbackUrl": "')[1].split('"')[0]
        assert client.get(url.replace("http://127.0.0.1:8000", "")).status_code == 200


class TestTheDemoKeepsEdits:
    """`make run` runs the demo on every start: it creates what is missing and leaves the operator's edits."""

    @pytest.fixture(autouse=True)
    def debug(self, settings):
        settings.DEBUG = True

    def counts(self):
        return (User.objects.count(), Channel.objects.count(), Entitlement.objects.count(), Group.objects.count())

    def test_edits_are_kept_and_nothing_is_duplicated(self):
        call_command("demo")
        seeded = self.counts()
        Channel.objects.filter(slug="demo-event").update(
            name="Grand Final", description="Tonight at eight.", is_private=False, is_listed=False, slug="final"
        )
        User.objects.filter(username="viewer").update(first_name="Vera", last_name="Viewer", email="vera@example.com")
        User.objects.filter(username="admin").update(is_superuser=False)
        sd_viewer = User.objects.get(username="viewer-sd")
        sd_viewer.groups.clear()
        Entitlement.objects.filter(user__username="viewer").update(max_resolution="SD", note="edited")

        call_command("demo")

        assert self.counts() == seeded
        final = Channel.objects.get(arn__endswith="/demoPrivate01")
        assert (final.name, final.slug, final.description) == ("Grand Final", "final", "Tonight at eight.")
        assert (final.is_private, final.is_listed) == (False, False)
        vera = User.objects.get(username="viewer")
        assert (vera.first_name, vera.last_name, vera.email) == ("Vera", "Viewer", "vera@example.com")
        assert not User.objects.get(username="admin").is_superuser
        assert not sd_viewer.groups.exists()
        assert Entitlement.objects.get(user=vera).note == "edited"

    def test_a_deleted_channel_comes_back_with_its_entitlements(self):
        call_command("demo")
        seeded = self.counts()
        Channel.objects.filter(slug="demo-event").delete()
        assert Entitlement.objects.count() == 0

        call_command("demo")

        assert self.counts() == seeded
        event = Channel.objects.get(slug="demo-event")
        assert (event.name, event.is_private) == ("Demo Event", True)
        assert event.entitlements.filter(user__username="viewer").exists()
        assert event.entitlements.get(group__name="sd-subscribers").max_resolution == "SD"

    def test_a_revoked_entitlement_stays_revoked(self):
        call_command("demo")
        Entitlement.objects.filter(user__username="viewer").update(revoked_at=timezone.now())
        call_command("demo")
        assert Entitlement.objects.filter(user__username="viewer").get().revoked_at is not None

    def test_the_playback_url_follows_the_origin(self):
        call_command("demo", "--origin", "http://127.0.0.1:8000")
        Channel.objects.filter(slug="demo-event").update(name="Renamed")
        call_command("demo", "--origin", "http://localhost:9000/")
        event = Channel.objects.get(arn__endswith="/demoPrivate01")
        assert event.playback_url.startswith("http://localhost:9000/ivs/api/video/v1/us-west-2.123456789012.")
        assert event.name == "Renamed"

    def test_a_slug_taken_by_another_channel_gets_a_free_one(self):
        Channel.objects.create(
            name="Mine", slug="demo-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
        )
        call_command("demo")
        assert Channel.objects.get(arn__endswith="/demoPrivate01").slug == "demo-event-2"
        assert Channel.objects.get(arn=PRIVATE_ARN).name == "Mine"


class TestTheDemosKey:
    """The demo registers the key it signs with when the database lacks it, and otherwise leaves keys alone: the
    rotation's own steps record the switch, and the checks they make are what keep old tokens valid."""

    @pytest.fixture(autouse=True)
    def debug(self, settings):
        settings.DEBUG = True

    def test_a_fresh_database_gets_the_configured_key_as_its_signing_key(self, signing_key):
        call_command("demo")
        key = PlaybackKey.objects.get()
        assert key.fingerprint == tokens.fingerprint(signing_key) and key.is_signing
        assert list(key.regions.values_list("region", flat=True)) == ["us-west-2"]

    def test_a_registered_key_keeps_its_name_and_flag(self, registered_key, capsys):
        """A key generated in the admin and then configured: the demo must not make it the signing key itself."""
        rotated_to = registered_key
        PlaybackKey.objects.filter(pk=rotated_to.pk).update(name="site-2027", is_signing=False)
        _, old = key_rotation.generate("dev-old")
        PlaybackKey.objects.filter(pk=old.pk).update(is_signing=True)
        call_command("demo")
        rotated_to.refresh_from_db()
        old.refresh_from_db()
        assert (rotated_to.name, rotated_to.is_signing) == ("site-2027", False)
        assert old.is_signing and old.signing_stopped_at is None
        assert "not recorded as the signing key" in capsys.readouterr().out

    def test_after_a_rotation_deleted_the_configured_key_it_is_registered_again_and_the_site_starts(self, signing_key):
        _, rotated_to = key_rotation.generate("site-2027")
        PlaybackKey.objects.filter(pk=rotated_to.pk).update(is_signing=True)
        assert "ivs.E020" in [m.id for m in run_checks()]
        call_command("demo")
        again = PlaybackKey.objects.get(fingerprint=tokens.fingerprint(signing_key))
        assert not again.is_signing and PlaybackKey.objects.get(pk=rotated_to.pk).is_signing
        assert [m.id for m in run_checks() if m.is_serious()] == []


@pytest.fixture
def channel(db, registered_key):
    return Channel.objects.create(
        name="Main Event", slug="main-event", arn=PRIVATE_ARN, playback_url=playback_url_for(PRIVATE_ARN)
    )


def mint(signing_key, **overrides):
    kwargs = dict(channel_arn=PRIVATE_ARN, now=int(time.time()), ttl=300, viewer_id="v1", session_version=3)
    kwargs.update(overrides)
    return tokens.mint(signing_key, **kwargs).token


class TestVerify:
    def test_a_good_url_is_valid_and_names_its_key(self, channel, signing_key, registered_key, capsys):
        call_command("ivs_verify", tokens.with_token(channel.playback_url, mint(signing_key)))
        out = capsys.readouterr().out
        assert '"aws:channel-arn": "' + PRIVATE_ARN in out
        assert f"Verified by key: {registered_key.fingerprint}" in out
        assert "Verdict: VALID" in out

    @pytest.mark.parametrize(
        "overrides, code",
        [
            ({"now": int(time.time()) - 600}, "expired"),
            ({"channel_arn": PRIVATE_ARN.replace("MainEvent01", "Other")}, "channel_mismatch"),
        ],
    )
    def test_a_bad_token_gets_its_reason(self, channel, signing_key, capsys, overrides, code):
        with pytest.raises(CommandError, match=rf"REJECTED \({code}\)"):
            call_command("ivs_verify", mint(signing_key, **overrides), "--channel", "main-event")

    def test_an_unregistered_key_is_named_as_the_problem(self, channel):
        with pytest.raises(CommandError, match=r"\(signature\)"):
            call_command("ivs_verify", mint(tokens.generate_private_key()), "--channel", "main-event")

    def test_it_says_revocation_is_not_checked_and_never_reads_the_local_origin(self, channel, signing_key, capsys):
        state.start_viewer_session_revocation(PRIVATE_ARN, "v1", 3)  # IVS's state: not readable through its API
        call_command("ivs_verify", mint(signing_key), "--channel", "main-event")
        out = capsys.readouterr().out
        assert "Verdict: VALID" in out
        assert "Not checked: whether IVS has revoked this viewer's sessions" in out

    def test_it_never_spends_a_single_use_token_and_says_spent_ones_are_not_checked(self, channel, signing_key, capsys):
        single = mint(signing_key, single_use_uuid=str(uuid.uuid4()))
        call_command("ivs_verify", single, "--channel", "main-event")
        call_command("ivs_verify", single, "--channel", "main-event")  # still valid: nothing was spent
        assert not SpentToken.objects.exists()
        assert "Not checked: whether this single-use token was already spent" in capsys.readouterr().out

    def test_it_does_not_import_the_local_origin(self):
        source = Path(ivs_verify.__file__).read_text()
        assert "localivs" not in source

    @pytest.mark.parametrize("junk", ["garbage", "https://example.com/x.m3u8", "https://example.com/x.m3u8?token="])
    def test_junk_input_gets_a_clear_error(self, channel, junk):
        with pytest.raises(CommandError):
            call_command("ivs_verify", junk)

    def test_an_unknown_channel_slug_is_an_error(self, channel, signing_key):
        with pytest.raises(CommandError, match="No channel"):
            call_command("ivs_verify", mint(signing_key), "--channel", "nope")

    def test_without_a_channel_it_says_the_arn_was_not_checked(self, channel, signing_key, capsys):
        call_command("ivs_verify", mint(signing_key))
        assert "the ARN is not checked" in capsys.readouterr().out

    def test_it_verifies_with_only_the_public_keys_registered_and_no_private_key_configured(
        self, channel, signing_key, settings, monkeypatch, capsys, manage_py
    ):
        # A support machine that holds no secret: the private key settings are empty, a private channel exists.
        token = mint(signing_key)
        settings.IVS_PLAYBACK_PRIVATE_KEY = ""
        settings.IVS_PLAYBACK_PRIVATE_KEY_FILE = ""

        def no_private_key():
            raise AssertionError("ivs_verify read the signing key")

        monkeypatch.setattr(signing_keys, "_read_private_pem", no_private_key)
        # As manage.py runs it: call_command would skip the system checks that refused it.
        manage_py("ivs_verify", tokens.with_token(channel.playback_url, token))
        assert "Verdict: VALID" in capsys.readouterr().out
