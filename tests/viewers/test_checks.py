"""The start-up checks: a bad key, token policy or site address stops the site before it serves a request."""

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from tests import ROOT
from viewers.ivs import signing_keys, tokens
from viewers.startup import fail_on_check_errors


def pem_of(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def ivs_messages():
    # Other apps (localivs) register checks under the same tag; these tests are about viewers' own.
    return [m for m in run_checks(tags=["ivs"]) if m.id.startswith("ivs.")]


def ids(messages):
    return sorted(m.id for m in messages)


def the_one(messages, check_id):
    found = [m for m in messages if m.id == check_id]
    assert len(found) == 1, f"expected one {check_id}, got {ids(messages)}"
    return found[0]


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
        assert ids(ivs_messages()) == ["ivs.W001"]

    def test_a_key_fixed_after_a_failed_check_is_picked_up(self, use_key, good_pem, tmp_path):
        path = tmp_path / "ivs.pem"
        use_key(path=path)
        assert ids(ivs_messages()) == ["ivs.E001"]
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
        assert ids(ivs_messages()) == ["ivs.E010"]

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
        assert ids(ivs_messages()) == ["ivs.E013"]

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
        assert ids(ivs_messages()) == ["ivs.E014"]


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


def local_origin_messages():
    return [m for m in run_checks(tags=["ivs"]) if m.id.startswith("localivs.")]


@pytest.mark.django_db
class TestLocalOriginInProduction:
    def test_the_local_origin_without_debug_stops_start_up(self, settings):
        settings.DEBUG = False
        settings.IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW = False
        error = the_one(local_origin_messages(), "localivs.E001")
        assert error.is_serious()
        assert "IVS_LOCAL_ORIGIN=false" in error.hint
        with pytest.raises(ImproperlyConfigured, match=r"localivs\.E001"):
            fail_on_check_errors()

    def test_a_staging_demo_may_allow_it_loudly_and_is_still_warned(self, settings):
        settings.DEBUG = False
        settings.IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW = True
        assert ids(local_origin_messages()) == ["localivs.W001"]
        fail_on_check_errors()

    def test_with_debug_on_it_says_nothing(self, settings):
        settings.DEBUG = True
        settings.IVS_LOCAL_ORIGIN_IN_PRODUCTION_I_KNOW = False
        assert local_origin_messages() == []


@pytest.mark.django_db
class TestSiteUrl:
    """Every link in an email is built from SITE_URL, so the site does not start without a usable one."""

    def test_a_missing_site_url_outside_debug_stops_start_up(self, settings):
        settings.DEBUG = False
        settings.SITE_URL = ""
        error = the_one(ivs_messages(), "ivs.E060")
        assert "SITE_URL" in error.msg and "https://watch.example.com" in error.hint
        with pytest.raises(ImproperlyConfigured, match=r"ivs\.E060"):
            fail_on_check_errors()

    @pytest.mark.parametrize(
        "url",
        [
            "watch.example.com",
            "//watch.example.com",
            "ftp://watch.example.com",
            "https://",
            "https://watch.example.com/watch",
            "https://watch.example.com/?next=/",
            "https://watch.example.com/#top",
            "https://someone:secret@watch.example.com",
            "https://watch.example.com:99999",
            "https://watch.example.com:port",
        ],
    )
    def test_a_malformed_site_url_stops_start_up(self, settings, url):
        settings.SITE_URL = url
        error = the_one(ivs_messages(), "ivs.E061")
        assert "SITE_URL" in error.msg
        assert "secret" not in error.msg + (error.hint or "")
        with pytest.raises(ImproperlyConfigured, match=r"ivs\.E061"):
            fail_on_check_errors()

    @pytest.mark.parametrize("url", ["https://watch.example.com", "http://127.0.0.1:8000", "https://[::1]:8443"])
    def test_an_absolute_http_url_passes(self, settings, url):
        settings.SITE_URL = url
        assert [m for m in ivs_messages() if m.id.startswith("ivs.E06")] == []

    @pytest.mark.parametrize(
        ("env", "expected"),
        [
            ({"DEBUG": "true"}, "http://127.0.0.1:8000"),
            ({"DEBUG": "true", "SITE_URL": "http://127.0.0.1:8123"}, "http://127.0.0.1:8123"),
            ({"DEBUG": "false", "SITE_URL": "https://watch.example.com/"}, "https://watch.example.com"),
            ({"DEBUG": "false"}, ""),
        ],
        ids=["debug default", "debug set", "a trailing slash", "no default outside debug"],
    )
    def test_site_url_comes_from_the_environment(self, env, expected):
        code = "import django; django.setup(); from django.conf import settings; print(repr(settings.SITE_URL))"
        assert fresh_process(env, code).stdout.strip() == repr(expected)

    def test_the_wsgi_application_refuses_to_start_without_site_url(self, tmp_path):
        result = fresh_process(
            {"DEBUG": "false", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}, "import ivssite.wsgi"
        )
        assert result.returncode != 0 and "ivs.E060" in result.stderr and "Set SITE_URL" in result.stderr


def fresh_process(env: dict, code: str) -> subprocess.CompletedProcess:
    """Run `code` with ivssite.settings read from `env` alone (and a throwaway SECRET_KEY)."""
    base = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "ivssite.settings", "SECRET_KEY": "k" * 50}
    return subprocess.run(
        [sys.executable, "-c", code],
        env={**base, "CACHE_URL": "locmemcache://", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
