"""The start-up gate in ivssite/wsgi.py, as gunicorn meets it: a fresh process importing the WSGI module."""

import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.exceptions import ImproperlyConfigured

from tests import ROOT
from viewers.startup import fail_on_check_errors


@pytest.fixture
def production_env(tmp_path):
    """A production-like environment built from nothing: the test process's own is the test settings'."""
    key_file = tmp_path / "playback.pem"
    key_file.write_bytes(
        ec.generate_private_key(ec.SECP384R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    key_file.chmod(0o600)
    return {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DJANGO_SETTINGS_MODULE": "ivssite.settings",
        "DEBUG": "false",
        "SECRET_KEY": "startup-test-" + "k" * 50,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "watch.example.com",
        "SITE_URL": "https://watch.example.com",
        "IVS_PLAYBACK_PRIVATE_KEY_FILE": str(key_file),
    }


def import_wsgi(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import ivssite.wsgi"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_good_production_environment_imports_the_wsgi_module(production_env):
    result = import_wsgi(production_env)
    assert result.returncode == 0, result.stderr


def test_a_stripe_tolerance_of_zero_stops_the_wsgi_module_from_importing(production_env):
    result = import_wsgi({**production_env, "STRIPE_WEBHOOK_TOLERANCE": "0"})
    assert result.returncode != 0
    assert "sales.E003" in result.stderr


def test_a_reconcile_period_of_zero_stops_the_wsgi_module_from_importing(production_env):
    result = import_wsgi({**production_env, "IVS_RECONCILE_SECONDS": "0"})
    assert result.returncode != 0
    assert "ivs.E050" in result.stderr


@pytest.mark.django_db
class TestTheGate:
    def test_an_error_from_a_check_of_any_tag_stops_start_up(self, settings):
        settings.AWS_READ_TIMEOUT_SECONDS = 0
        with pytest.raises(ImproperlyConfigured, match=r"ivs\.E051"):
            fail_on_check_errors()

    def test_a_silenced_error_does_not_stop_start_up(self, settings):
        settings.IVS_TOKEN_TTL_SECONDS = 0
        settings.SILENCED_SYSTEM_CHECKS = [*settings.SILENCED_SYSTEM_CHECKS, "ivs.E010"]
        fail_on_check_errors()
