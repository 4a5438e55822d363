"""Key rotation: generate, import (boto3, stubbed), make signing, delete only once the last token the key signed
(read from the audit) has expired; the checks."""

from datetime import timedelta
from io import StringIO

import boto3
import pytest
import time_machine
from botocore.stub import Stubber
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests.factories import audit_row, ivs_messages, watch
from viewers.ivs import key_rotation, signing_keys, tokens
from viewers.models import UNKNOWN_SIGNER, PlaybackKey, PlaybackKeyRegion

KEY_ARN = "arn:aws:ivs:us-west-2:123456789012:playback-key/AbCdEf123456"
KEYS = "/admin/viewers/playbackkey/"


@pytest.fixture
def ivs():
    client = boto3.client("ivs", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="y")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.mark.django_db
class TestGenerate:
    def test_it_registers_the_public_half_only(self):
        private, key = key_rotation.generate("site-2026")
        assert key.fingerprint == tokens.fingerprint(private)
        assert key.is_active and not key.is_signing
        assert "PRIVATE" not in key.public_key_pem
        stored = str(list(PlaybackKey.objects.values()))
        assert tokens.private_key_pem(private).decode().splitlines()[1] not in stored

    def test_it_refuses_a_bad_name(self):
        with pytest.raises(key_rotation.RotationError, match="IVS.s rule for key names"):
            key_rotation.generate("no spaces")


@pytest.mark.django_db
class TestImport:
    def test_it_imports_with_boto3_and_records_arn_and_fingerprint(self, ivs, settings):
        settings.AWS_REGION = "us-west-2"
        client, stubber = ivs
        _, key = key_rotation.generate("site-2026")
        stubber.add_response("list_playback_key_pairs", {"keyPairs": []}, {})
        stubber.add_response(
            "import_playback_key_pair",
            {"keyPair": {"arn": KEY_ARN, "name": "site-2026", "fingerprint": key.fingerprint, "tags": {}}},
            {"publicKeyMaterial": key.public_key_pem, "name": "site-2026"},
        )
        assert key_rotation.import_into_ivs(key, clients={"us-west-2": client}) == ["us-west-2"]
        assert list(key.regions.values_list("region", "arn", "fingerprint")) == [
            ("us-west-2", KEY_ARN, key.fingerprint)
        ]

    def test_an_aws_error_is_a_clear_message(self, ivs, settings):
        settings.AWS_REGION = "us-west-2"
        client, stubber = ivs
        _, key = key_rotation.generate("site-2026")
        stubber.add_response("list_playback_key_pairs", {"keyPairs": []}, {})
        stubber.add_client_error(
            "import_playback_key_pair", "ServiceQuotaExceededException", "Maximum of 3 key pairs reached"
        )
        with pytest.raises(
            key_rotation.RotationError, match="refused the import in us-west-2: ServiceQuotaExceededException: Maximum"
        ):
            key_rotation.import_into_ivs(key, clients={"us-west-2": client})
        assert not key.regions.exists()

    def test_without_aws_it_gives_the_cli_command(self, settings):
        settings.AWS_REGION = ""
        _, key = key_rotation.generate("site-2026")
        assert key_rotation.import_command(key) == (
            "aws ivs import-playback-key-pair --name site-2026 --public-key-material file://site-2026.pub.pem"
        )
        with pytest.raises(key_rotation.RotationError, match="IVS_AWS_REGION"):
            key_rotation.import_into_ivs(key)


@pytest.fixture
def use_new_key(settings):
    """Generate a key and configure the site with its private half, as a deploy would."""

    def deploy(name="site-new"):
        private, key = key_rotation.generate(name)
        settings.IVS_PLAYBACK_PRIVATE_KEY = tokens.private_key_pem(private).decode()
        signing_keys.forget_cached_keys()
        return key

    yield deploy
    signing_keys.forget_cached_keys()


@pytest.mark.django_db
class TestSwitchingAndDeleting:
    def test_it_will_not_mark_a_key_the_site_does_not_sign_with(self, registered_key):
        _, key = key_rotation.generate("site-new")
        with pytest.raises(key_rotation.RotationError, match="point IVS_PLAYBACK_PRIVATE_KEY_FILE"):
            key_rotation.make_signing(key)
        assert PlaybackKey.objects.get(is_signing=True) == registered_key

    def test_the_old_key_may_go_only_once_the_last_token_it_signed_has_expired(
        self, registered_key, use_new_key, settings, alice, client
    ):
        settings.IVS_TOKEN_TTL_SECONDS = 300
        signed = timezone.now().replace(microsecond=0)
        with time_machine.travel(signed, tick=False):
            watch(alice)
        with time_machine.travel(signed + timedelta(seconds=100), tick=False):
            key_rotation.make_signing(use_new_key())
        old = PlaybackKey.objects.get(pk=registered_key.pk)
        assert not old.is_signing and old.signing_stopped_at == signed + timedelta(seconds=100)
        # The token's expiry decides, not when the flag moved: 300 s after it was signed, plus the clock slack.
        state = key_rotation.retirement(old)
        assert state.deletable_at == signed + timedelta(seconds=300) + key_rotation.CLOCK_SLACK
        with time_machine.travel(signed + timedelta(seconds=359), tick=False):
            assert not state.allowed()
            with pytest.raises(key_rotation.RotationError, match="may still be in use until"):
                key_rotation.retire(old)
        assert PlaybackKey.objects.filter(pk=old.pk).exists()
        with time_machine.travel(signed + timedelta(seconds=361), tick=False):
            assert "Deleted test-key" in key_rotation.retire(old)
        assert not PlaybackKey.objects.filter(pk=old.pk).exists()

    def test_a_key_unflagged_behind_the_rotations_back_still_waits_for_its_tokens(
        self, registered_key, use_new_key, alice, client
    ):
        """The demo's old bug: the flag moved without the rotation step, so signing_stopped_at stayed empty."""
        watch(alice)
        use_new_key()
        PlaybackKey.objects.filter(pk=registered_key.pk).update(is_signing=False)
        old = PlaybackKey.objects.get(pk=registered_key.pk)
        assert old.signing_stopped_at is None
        with pytest.raises(key_rotation.RotationError, match="may still be in use until"):
            key_rotation.retire(old)
        assert "tokens it signed are valid until" in key_rotation.retirement(old).describe()

    def test_a_key_that_never_signed_says_so_and_may_go_at_once(self, registered_key):
        _, unused = key_rotation.generate("never-used")
        state = key_rotation.retirement(unused)
        assert state.allowed() and state.describe() == "never signed a token: may be deleted now"
        assert key_rotation.retire(unused) == "Deleted never-used from the site."

    def test_the_key_the_site_is_configured_with_cannot_go_even_unflagged(self, registered_key):
        PlaybackKey.objects.filter(pk=registered_key.pk).update(is_signing=False)
        registered_key.refresh_from_db()
        with pytest.raises(key_rotation.RotationError, match="configured in IVS_PLAYBACK_PRIVATE_KEY_FILE"):
            key_rotation.retire(registered_key)

    def test_rows_from_before_keys_were_recorded_count_for_every_key(self, registered_key, alice, private_channel):
        key_rotation._unknown_signer_expiry.cache_clear()
        audit_row(alice, private_channel, key_fingerprint=UNKNOWN_SIGNER)
        _, unused = key_rotation.generate("never-used")
        try:
            assert not key_rotation.retirement(unused).allowed()
        finally:
            key_rotation._unknown_signer_expiry.cache_clear()

    def test_the_signing_key_cannot_be_deleted(self, registered_key):
        with pytest.raises(key_rotation.RotationError, match="signing key"):
            key_rotation.retire(registered_key)

    def test_deleting_removes_the_key_pair_from_ivs(self, ivs, registered_key, use_new_key):
        client, stubber = ivs
        key_rotation.make_signing(use_new_key())
        old = PlaybackKey.objects.get(pk=registered_key.pk)
        PlaybackKeyRegion.objects.create(key=old, arn=KEY_ARN)
        stubber.add_response("delete_playback_key_pair", {}, {"arn": KEY_ARN})
        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            note = key_rotation.retire(old, clients={"us-west-2": client})
        assert note == "Deleted test-key from IVS (us-west-2) and from the site."
        assert not PlaybackKeyRegion.objects.exists()

    def test_demoting_a_key_in_the_form_also_records_when(self, registered_key):
        registered_key.is_signing = False
        registered_key.save()
        registered_key.refresh_from_db()
        assert registered_key.signing_stopped_at is not None


@pytest.mark.django_db
class TestChecks:
    def test_a_fresh_install_with_no_keys_registered_passes(self):
        assert [m.id for m in ivs_messages()] == []

    def test_the_configured_key_must_be_registered_once_any_key_is(self):
        key_rotation.generate("someone-else")
        (error,) = ivs_messages()
        assert error.id == "ivs.E020" and error.is_serious()

    def test_the_registered_configured_key_passes(self, registered_key):
        assert ivs_messages() == []

    def test_more_than_three_active_keys_is_a_warning(self, registered_key):
        for i in range(3):
            key_rotation.generate(f"extra-{i}")
        (warning,) = ivs_messages()
        assert warning.id == "ivs.W020" and not warning.is_serious()


@pytest.mark.django_db
class TestTheAdmin:
    def test_generating_shows_the_private_key_once_and_stores_only_the_public_half(self, admin_client, settings):
        settings.AWS_REGION = ""
        assert admin_client.get(KEYS + "generate/").status_code == 200
        response = admin_client.post(KEYS + "generate/", {"name": "site-2026"})
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        body = response.content.decode()
        pem = body.split("-----BEGIN PRIVATE KEY-----")[1].split("-----END PRIVATE KEY-----")[0]
        private = tokens.load_private_key("-----BEGIN PRIVATE KEY-----" + pem + "-----END PRIVATE KEY-----\n")
        key = PlaybackKey.objects.get(name="site-2026")
        assert key.fingerprint == tokens.fingerprint(private)
        assert "aws ivs import-playback-key-pair --name site-2026" in body
        assert "BEGIN PRIVATE KEY" not in admin_client.get(f"{KEYS}{key.pk}/change/").content.decode()

    def test_generating_imports_when_aws_is_configured(self, admin_client, settings, monkeypatch, ivs):
        client, stubber = ivs
        settings.AWS_REGION = "us-west-2"
        monkeypatch.setattr("viewers.ivs.aws.ivs_client", lambda region=None: client)
        stubber.add_response("list_playback_key_pairs", {"keyPairs": []})
        stubber.add_response(
            "import_playback_key_pair",
            {"keyPair": {"arn": KEY_ARN, "name": "site-2026", "fingerprint": "aa:bb", "tags": {}}},
        )
        body = admin_client.post(KEYS + "generate/", {"name": "site-2026", "import_into_ivs": "on"}).content.decode()
        assert f"Imported into IVS in us-west-2: <code>{KEY_ARN}</code>" in body
        assert PlaybackKey.objects.get(name="site-2026").regions.get().arn == KEY_ARN

    def test_a_bad_name_is_a_form_error(self, admin_client):
        response = admin_client.post(KEYS + "generate/", {"name": "bad name"})
        assert response.status_code == 200 and "letters, digits" in response.content.decode()
        assert not PlaybackKey.objects.exists()

    def test_make_signing_needs_the_key_deployed(self, admin_client, registered_key):
        _, key = key_rotation.generate("site-new")
        page = admin_client.get(f"{KEYS}{key.pk}/step/make_signing/")
        assert "not configured with this key" in page.content.decode()
        response = admin_client.post(f"{KEYS}{key.pk}/step/make_signing/")
        assert response.status_code == 302
        assert PlaybackKey.objects.get(is_signing=True) == registered_key

    def test_make_signing_switches_when_deployed(self, admin_client, registered_key, use_new_key):
        key = use_new_key()
        assert admin_client.post(f"{KEYS}{key.pk}/step/make_signing/").status_code == 302
        assert PlaybackKey.objects.get(is_signing=True) == key

    def test_delete_is_offered_only_after_the_ttl(self, admin_client, registered_key, use_new_key, alice, client):
        watch(alice)
        key_rotation.make_signing(use_new_key())
        old_url = f"{KEYS}{registered_key.pk}/step/retire/"
        assert "tokens it signed are valid until" in admin_client.get(KEYS).content.decode()
        response = admin_client.post(old_url)
        assert response.status_code == 302 and PlaybackKey.objects.filter(pk=registered_key.pk).exists()
        with time_machine.travel(timezone.now() + timedelta(hours=1)):
            assert "delete…" in admin_client.get(KEYS).content.decode()
            assert admin_client.get(old_url).status_code == 200
            assert admin_client.post(old_url).status_code == 302
        assert not PlaybackKey.objects.filter(pk=registered_key.pk).exists()

    def test_the_builtin_delete_is_closed(self, admin_client, registered_key):
        assert admin_client.post(f"{KEYS}{registered_key.pk}/delete/", {"post": "yes"}).status_code == 403

    def test_an_unknown_step_is_a_404(self, admin_client, registered_key):
        assert admin_client.get(f"{KEYS}{registered_key.pk}/step/explode/").status_code == 404


@pytest.mark.django_db
class TestTheCommand:
    def test_generate_writes_a_private_file_and_activate_switches(
        self, tmp_path, registered_key, settings, alice, client
    ):
        settings.AWS_REGION = ""
        watch(alice)
        out = StringIO()
        call_command("ivs_rotate_key", "generate", str(tmp_path / "new.pem"), "--name", "site-new", stdout=out)
        assert (tmp_path / "new.pem").stat().st_mode & 0o777 == 0o600
        assert "aws ivs import-playback-key-pair --name site-new" in out.getvalue()
        assert "PRIVATE KEY" not in out.getvalue()
        settings.IVS_PLAYBACK_PRIVATE_KEY = (tmp_path / "new.pem").read_text()
        signing_keys.forget_cached_keys()
        out = StringIO()
        call_command("ivs_rotate_key", "activate", stdout=out)
        assert "site-new is now the signing key" in out.getvalue()
        assert "test-key stopped signing; tokens it signed are valid until" in out.getvalue()
        with pytest.raises(CommandError, match="may still be in use"):
            call_command("ivs_rotate_key", "delete", "test-key")
        signing_keys.forget_cached_keys()

    def test_delete_of_an_unknown_key_is_an_error(self, db):
        with pytest.raises(CommandError, match="No playback key named"):
            call_command("ivs_rotate_key", "delete", "nope")
