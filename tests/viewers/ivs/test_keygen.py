"""manage.py ivs_keygen, through call_command."""

import os
import re
import stat
import subprocess
import sys
from io import StringIO

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command
from django.core.management.base import CommandError

from tests import ROOT
from viewers.ivs import tokens
from viewers.models import PlaybackKey

# It reads the site's regions from the database for the import commands: each test has one to read.
pytestmark = pytest.mark.django_db


def keygen(*args):
    out = StringIO()
    call_command("ivs_keygen", *[str(a) for a in args], stdout=out, stderr=StringIO())
    return out.getvalue()


def printed_public_pem(output):
    match = re.search(r"-----BEGIN PUBLIC KEY-----\n.*?\n-----END PUBLIC KEY-----\n", output, re.S)
    assert match, "no public key in the output"
    return match.group(0)


def test_it_writes_a_private_key_only_its_owner_can_read(tmp_path):
    path = tmp_path / "ivs.pem"
    keygen(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_it_writes_0600_even_under_a_permissive_umask(tmp_path):
    old = os.umask(0)
    try:
        keygen(tmp_path / "ivs.pem")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "ivs.pem").stat().st_mode) == 0o600


def test_the_private_key_is_p384_and_loads(tmp_path):
    path = tmp_path / "ivs.pem"
    keygen(path)
    key = tokens.load_private_key(path.read_bytes())
    assert isinstance(key.curve, ec.SECP384R1)
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")  # PKCS8


def test_the_printed_and_written_public_key_belong_to_the_private_key(tmp_path):
    path = tmp_path / "ivs.pem"
    output = keygen(path)
    private = tokens.load_private_key(path.read_bytes())
    expected = tokens.public_key_pem(private)
    assert printed_public_pem(output) == expected
    assert (tmp_path / "ivs.pem.pub.pem").read_text() == expected
    assert f"Fingerprint: {tokens.fingerprint(private)}" in output


def test_a_token_signed_with_the_new_key_verifies_with_the_printed_public_key(tmp_path):
    path = tmp_path / "ivs.pem"
    output = keygen(path)
    private = tokens.load_private_key(path.read_bytes())
    public = tokens.load_public_key(printed_public_pem(output))
    arn = "arn:aws:ivs:us-west-2:123456789012:channel/MainEvent01"
    minted = tokens.mint(private, channel_arn=arn, now=1_700_000_000, ttl=60)
    verified = tokens.verify(minted.token, keys=[("new", public)], channel_arn=arn, now=1_700_000_001)
    assert verified.channel_arn == arn


def test_it_prints_the_import_command_and_the_setting(tmp_path):
    path = tmp_path / "ivs.pem"
    output = keygen(path, "--name", "site-2025")
    assert (
        f"aws ivs import-playback-key-pair --name site-2025 --public-key-material file://{tmp_path}/ivs.pem.pub.pem"
        in output
    )
    assert f"IVS_PLAYBACK_PRIVATE_KEY_FILE={path}" in output


def test_it_names_the_key_after_the_file_by_default(tmp_path):
    output = keygen(tmp_path / "prod key.pem")
    assert "--name prod-key " in output


@pytest.mark.django_db
def test_the_private_key_never_appears_in_the_output(tmp_path):
    path = tmp_path / "ivs.pem"
    output = keygen(path, "--register")
    private_pem = path.read_text()
    body = "".join(private_pem.splitlines()[1:-1])
    assert "PRIVATE KEY-----" not in output
    assert body[:40] not in output.replace("\n", "")
    assert private_pem.splitlines()[1] not in output


def test_it_refuses_to_overwrite_a_key(tmp_path):
    path = tmp_path / "ivs.pem"
    path.write_text("the old key")
    with pytest.raises(CommandError, match="already exists; refusing to overwrite"):
        keygen(path)
    assert path.read_text() == "the old key"
    assert not (tmp_path / "ivs.pem.pub.pem").exists()


def test_it_refuses_to_run_twice_on_the_same_path(tmp_path):
    path = tmp_path / "ivs.pem"
    keygen(path)
    first = path.read_bytes()
    with pytest.raises(CommandError, match="already exists"):
        keygen(path)
    assert path.read_bytes() == first


def test_it_refuses_when_the_public_key_file_exists(tmp_path):
    (tmp_path / "ivs.pem.pub.pem").write_text("someone's public key")
    with pytest.raises(CommandError, match="already exists"):
        keygen(tmp_path / "ivs.pem")
    assert not (tmp_path / "ivs.pem").exists()
    assert (tmp_path / "ivs.pem.pub.pem").read_text() == "someone's public key"


def test_it_does_not_follow_a_symlink_planted_at_the_path(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / "ivs.pem").symlink_to(target)
    with pytest.raises(CommandError, match="already exists"):
        keygen(tmp_path / "ivs.pem")
    assert not target.exists()


def test_it_explains_a_missing_directory(tmp_path):
    with pytest.raises(CommandError, match="directory .*/nowhere does not exist"):
        keygen(tmp_path / "nowhere" / "ivs.pem")


def test_it_explains_a_path_that_is_a_directory(tmp_path):
    with pytest.raises(CommandError, match="is a directory"):
        keygen(tmp_path)


def test_it_explains_an_unwritable_directory(tmp_path, monkeypatch):
    # Tests may run as root, who can write anywhere: make the OS say no instead.
    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", denied)
    with pytest.raises(CommandError, match="Cannot create .*ivs.pem: Permission denied"):
        keygen(tmp_path / "ivs.pem")


def test_it_runs_while_the_key_setting_points_at_the_file_it_is_about_to_make(tmp_path, settings, capsys, manage_py):
    # The usual first deployment: the setting is in place, the key is not, so ivs.E001 fails every check run.
    settings.IVS_PLAYBACK_PRIVATE_KEY = ""
    settings.IVS_PLAYBACK_PRIVATE_KEY_FILE = str(tmp_path / "ivs.pem")
    manage_py("ivs_keygen", tmp_path / "ivs.pem")
    assert (tmp_path / "ivs.pem").exists()
    assert "IVS_PLAYBACK_PRIVATE_KEY_FILE=" in capsys.readouterr().out


def test_it_rejects_a_name_ivs_would_refuse(tmp_path):
    with pytest.raises(CommandError, match="--name"):
        keygen(tmp_path / "ivs.pem", "--name", "bad name!")
    assert not (tmp_path / "ivs.pem").exists()


def test_without_register_it_needs_no_database_and_prints_a_region_placeholder(tmp_path):
    # A real unreachable database, in a process of its own: the test database would always answer.
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DEBUG": "false",
        "SECRET_KEY": "keygen-test-" + "k" * 40,
        "DATABASE_URL": f"sqlite:///{tmp_path}/no-such-directory/db.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "ivs_keygen", str(tmp_path / "ivs.pem"), "--name", "site-2026"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "ivs.pem").exists()
    assert "The site's regions could not be read from the database" in result.stdout
    assert import_lines(result.stdout) == [
        f"aws ivs import-playback-key-pair --name site-2026 --public-key-material file://{tmp_path}/ivs.pem.pub.pem "
        "--region <your-region>"
    ]


def import_lines(output):
    return [line.strip() for line in output.splitlines() if line.strip().startswith("aws ivs import-playback-key-pair")]


@pytest.mark.django_db
class TestImportCommand:
    def test_it_prints_one_import_line_per_region_the_site_works_in(self, tmp_path, settings, private_channel):
        settings.AWS_REGION = "eu-west-1"
        settings.IVS_REGIONS = []
        output = keygen(tmp_path / "ivs.pem", "--name", "site-2026")
        command = (
            f"aws ivs import-playback-key-pair --name site-2026 --public-key-material file://{tmp_path}/ivs.pem.pub.pem"
        )
        # AWS_REGION, and the private channel's us-west-2.
        assert import_lines(output) == [f"{command} --region eu-west-1", f"{command} --region us-west-2"]
        assert "<your-region>" not in output

    def test_with_no_region_known_it_prints_a_placeholder_and_says_why(self, tmp_path, settings):
        settings.AWS_REGION = ""
        settings.IVS_REGIONS = []
        output = keygen(tmp_path / "ivs.pem", "--name", "site-2026")
        assert import_lines(output) == [
            f"aws ivs import-playback-key-pair --name site-2026 --public-key-material file://{tmp_path}/ivs.pem.pub.pem"
            " --region <your-region>"
        ]
        assert "The site has no channels yet and neither IVS_REGIONS nor AWS_REGION is set" in output


@pytest.mark.django_db
class TestRegister:
    def test_it_records_the_public_half(self, tmp_path):
        path = tmp_path / "ivs.pem"
        keygen(path, "--name", "site-2025", "--register")
        private = tokens.load_private_key(path.read_bytes())
        record = PlaybackKey.objects.get()
        assert record.name == "site-2025"
        assert record.public_key_pem == tokens.public_key_pem(private)
        assert record.fingerprint == tokens.fingerprint(private)
        assert record.is_signing is False
        assert "PRIVATE" not in record.public_key_pem

    def test_it_marks_the_signing_key_when_asked(self, tmp_path):
        keygen(tmp_path / "ivs.pem", "--register", "--signing")
        assert PlaybackKey.objects.get().is_signing is True

    def test_signing_needs_register(self, tmp_path):
        with pytest.raises(CommandError, match="--register"):
            keygen(tmp_path / "ivs.pem", "--signing")
        assert not (tmp_path / "ivs.pem").exists()

    def test_a_refused_registration_writes_no_files(self, tmp_path, registered_key):
        with pytest.raises(CommandError, match="Cannot register the key: name:"):
            keygen(tmp_path / "ivs.pem", "--name", registered_key.name, "--register")
        assert list(tmp_path.iterdir()) == []
        assert PlaybackKey.objects.count() == 1

    def test_a_second_signing_key_is_refused(self, tmp_path, registered_key):
        with pytest.raises(CommandError, match="Cannot register the key"):
            keygen(tmp_path / "ivs.pem", "--register", "--signing")
        assert list(tmp_path.iterdir()) == []
