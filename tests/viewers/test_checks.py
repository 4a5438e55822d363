"""The start-up checks: a bad key, token policy or site address stops the site before it serves a request."""

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.exceptions import ImproperlyConfigured

from tests.factories import check_ids, ivs_messages, pem_of, the_one
from viewers.ivs import signing_keys, tokens
from viewers.startup import fail_on_check_errors


@pytest.fixture
def use_key(settings):
    """Configure the signing key from a PEM string or a file, then drop the cached key."""

    def configure(pem="", path=""):
        settings.IVS_PLAYBACK_PRIVATE_KEY = pem
        settings.IVS_PLAYBACK_PRIVATE_KEY_FILE = str(path)
        signing_keys.forget_cached_keys()

    yield configure
    signing_keys.forget_cached_keys()


@pytest.fixture
def good_pem():
    return pem_of(tokens.generate_private_key())


@pytest.mark.django_db
class TestPlaybackKey:
    def test_a_good_key_passes(self, use_key, good_pem):
        use_key(pem=good_pem)
        assert ivs_messages() == []

    def test_a_good_key_file_passes(self, use_key, good_pem, tmp_path):
        (tmp_path / "ivs.pem").write_text(good_pem)
        use_key(path=tmp_path / "ivs.pem")
        assert ivs_messages() == []

    def test_a_key_with_flattened_newlines_passes(self, use_key, good_pem):
        use_key(pem=good_pem.replace("\n", "\\n"))
        assert ivs_messages() == []

    def test_a_missing_key_file_is_an_error_naming_the_file(self, use_key, tmp_path):
        use_key(path=tmp_path / "nope.pem")
        error = the_one(ivs_messages(), "ivs.E001")
        assert error.is_serious()
        assert f"IVS_PLAYBACK_PRIVATE_KEY_FILE {tmp_path / 'nope.pem'} cannot be read" in error.msg
        assert "IVS_PLAYBACK_PRIVATE_KEY_FILE" in error.hint and "ivs_keygen" in error.hint

    def test_a_directory_as_key_file_is_an_error(self, use_key, tmp_path):
        use_key(path=tmp_path)
        assert "cannot be read" in the_one(ivs_messages(), "ivs.E001").msg

    def test_an_unreadable_key_file_is_an_error(self, use_key, good_pem, tmp_path, monkeypatch):
        # Tests may run as root, who reads anything: make the read fail instead of chmod-ing.
        path = tmp_path / "ivs.pem"
        path.write_text(good_pem)
        original = type(path).read_bytes

        def denied(self):
            if self == path:
                raise PermissionError(13, "Permission denied")
            return original(self)

        monkeypatch.setattr(type(path), "read_bytes", denied)
        use_key(path=path)
        error = the_one(ivs_messages(), "ivs.E001")
        assert "cannot be read: Permission denied" in error.msg

    def test_a_garbage_key_file_is_an_error(self, use_key, tmp_path):
        (tmp_path / "ivs.pem").write_text("this is not a key\n")
        use_key(path=tmp_path / "ivs.pem")
        assert "not a valid PEM private key" in the_one(ivs_messages(), "ivs.E001").msg

    def test_a_public_key_in_place_of_the_private_one_is_an_error(self, use_key):
        use_key(pem=tokens.public_key_pem(tokens.generate_private_key()))
        assert "not a valid PEM private key" in the_one(ivs_messages(), "ivs.E001").msg

    def test_a_p256_key_is_an_error_naming_the_curve(self, use_key):
        pem = pem_of(ec.generate_private_key(ec.SECP256R1()))
        use_key(pem=pem)
        error = the_one(ivs_messages(), "ivs.E001")
        assert "secp256r1" in error.msg and "P-384" in error.msg
        assert pem not in error.msg and pem.splitlines()[1] not in error.msg

    def test_an_rsa_key_is_an_error(self, use_key, tmp_path):
        pem = pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))
        (tmp_path / "rsa.pem").write_text(pem)
        use_key(path=tmp_path / "rsa.pem")
        error = the_one(ivs_messages(), "ivs.E001")
        assert "not an elliptic-curve key" in error.msg
        assert pem.splitlines()[1] not in error.msg

    def test_an_encrypted_key_is_an_error(self, use_key):
        pem = (
            tokens.generate_private_key()
            .private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(b"hunter22"),
            )
            .decode()
        )
        use_key(pem=pem)
        assert "encrypted" in the_one(ivs_messages(), "ivs.E001").msg

    def test_both_settings_at_once_is_an_error(self, use_key, good_pem, tmp_path):
        (tmp_path / "ivs.pem").write_text(good_pem)
        use_key(pem=good_pem, path=tmp_path / "ivs.pem")
        error = the_one(ivs_messages(), "ivs.E001")
        assert "not both" in error.msg
        assert good_pem.splitlines()[1] not in error.msg + (error.hint or "")

    def test_no_key_with_private_channels_is_an_error(self, use_key, private_channel):
        use_key()
        error = the_one(ivs_messages(), "ivs.E002")
        assert error.is_serious()
        assert "private channels exist" in error.msg

    def test_no_key_and_only_public_channels_is_a_warning(self, use_key, public_channel):
        use_key()
        warning = the_one(ivs_messages(), "ivs.W001")
        assert not warning.is_serious()
        assert check_ids(ivs_messages()) == ["ivs.W001"]

    def test_a_key_fixed_after_a_failed_check_is_picked_up(self, use_key, good_pem, tmp_path):
        path = tmp_path / "ivs.pem"
        use_key(path=path)
        assert check_ids(ivs_messages()) == ["ivs.E001"]
        path.write_text(good_pem)
        assert ivs_messages() == []


@pytest.mark.django_db
class TestTokenPolicy:
    @pytest.mark.parametrize("single_use, viewer_id", [(True, False), (False, True), (True, True)])
    def test_a_long_ttl_with_session_claims_is_an_error(self, settings, single_use, viewer_id):
        settings.IVS_TOKEN_TTL_SECONDS = 601
        settings.IVS_TOKEN_SINGLE_USE = single_use
        settings.IVS_TOKEN_VIEWER_ID = viewer_id
        error = the_one(ivs_messages(), "ivs.E011")
        assert "601" in error.msg and "600" in error.hint

    def test_ten_minutes_with_session_claims_is_fine(self, settings):
        settings.IVS_TOKEN_TTL_SECONDS = 600
        settings.IVS_TOKEN_SINGLE_USE = settings.IVS_TOKEN_VIEWER_ID = True
        assert ivs_messages() == []

    def test_an_hour_without_session_claims_is_fine(self, settings):
        settings.IVS_TOKEN_TTL_SECONDS = 3600
        settings.IVS_TOKEN_SINGLE_USE = settings.IVS_TOKEN_VIEWER_ID = False
        assert ivs_messages() == []

    @pytest.mark.parametrize("ttl", [0, -5])
    def test_a_ttl_that_is_not_positive_is_an_error(self, settings, ttl):
        settings.IVS_TOKEN_TTL_SECONDS = ttl
        assert check_ids(ivs_messages()) == ["ivs.E010"]

    @pytest.mark.parametrize(
        "origin", ["example.com", "https://example.com/", "https://example.com/path", "ftp://example.com", "*"]
    )
    def test_a_bad_origin_is_an_error_naming_it(self, settings, origin):
        settings.IVS_ALLOWED_ORIGINS = ["https://good.example", origin]
        error = the_one(ivs_messages(), "ivs.E012")
        assert repr(origin) in error.msg

    def test_good_origins_pass(self, settings):
        settings.IVS_ALLOWED_ORIGINS = ["https://example.com", "https://*.example.com", "http://localhost:8000"]
        assert ivs_messages() == []

    def test_strict_enforcement_with_six_origins_is_an_error(self, settings):
        settings.IVS_STRICT_ORIGIN_ENFORCEMENT = True
        settings.IVS_ALLOWED_ORIGINS = [f"https://s{i}.example.com" for i in range(6)]
        assert check_ids(ivs_messages()) == ["ivs.E013"]

    def test_strict_enforcement_with_five_origins_is_fine(self, settings):
        settings.IVS_STRICT_ORIGIN_ENFORCEMENT = True
        settings.IVS_ALLOWED_ORIGINS = [f"https://s{i}.example.com" for i in range(5)]
        assert ivs_messages() == []

    def test_six_origins_without_strict_enforcement_is_fine(self, settings):
        settings.IVS_ALLOWED_ORIGINS = [f"https://s{i}.example.com" for i in range(6)]
        assert ivs_messages() == []

    def test_strict_enforcement_without_origins_is_an_error(self, settings):
        settings.IVS_STRICT_ORIGIN_ENFORCEMENT = True
        settings.IVS_ALLOWED_ORIGINS = []
        assert check_ids(ivs_messages()) == ["ivs.E014"]


@pytest.mark.django_db
class TestStartup:
    def test_a_bad_key_stops_start_up(self, use_key, tmp_path):
        use_key(path=tmp_path / "missing.pem")
        with pytest.raises(ImproperlyConfigured, match=r"ivs\.E001: Playback key unusable: .*missing\.pem"):
            fail_on_check_errors()

    def test_a_bad_policy_stops_start_up(self, settings):
        settings.IVS_TOKEN_TTL_SECONDS = 0
        with pytest.raises(ImproperlyConfigured, match=r"ivs\.E010"):
            fail_on_check_errors()

    def test_the_start_up_error_never_shows_the_key(self, use_key):
        pem = pem_of(ec.generate_private_key(ec.SECP256R1()))
        use_key(pem=pem)
        with pytest.raises(ImproperlyConfigured) as excinfo:
            fail_on_check_errors()
        assert pem.splitlines()[1] not in str(excinfo.value)

    def test_a_warning_does_not_stop_start_up(self, use_key, public_channel):
        use_key()
        fail_on_check_errors()

    def test_a_good_configuration_starts(self, use_key, good_pem):
        use_key(pem=good_pem)
        fail_on_check_errors()


@pytest.mark.django_db
class TestDeviceLimits:
    def test_a_device_limit_without_single_use_tokens_is_a_warning(self, settings, private_channel):
        """One reusable token opens any number of sessions with the same version: the limit counts none of them."""
        settings.IVS_TOKEN_SINGLE_USE = False
        private_channel.max_devices = 1
        private_channel.save()
        warning = the_one(ivs_messages(), "ivs.W011")
        assert not warning.is_serious()
        assert "IVS_TOKEN_SINGLE_USE" in warning.msg + warning.hint

    def test_single_use_off_without_device_limits_is_fine(self, settings, private_channel):
        settings.IVS_TOKEN_SINGLE_USE = False
        assert ivs_messages() == []

    def test_a_device_limit_with_single_use_tokens_is_fine(self, private_channel):
        private_channel.max_devices = 1
        private_channel.save()
        assert ivs_messages() == []
