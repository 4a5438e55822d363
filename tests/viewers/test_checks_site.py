"""The start-up checks about where the site runs: the local origin outside DEBUG, the site's public address, and a
fresh process importing the settings."""

import os
import subprocess
import sys

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured

from tests import ROOT
from tests.factories import check_ids, ivs_messages, the_one
from viewers.startup import fail_on_check_errors


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
        assert check_ids(local_origin_messages()) == ["localivs.W001"]
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
