"""manage.py in a shell without the site's environment: one line saying what to set, not a traceback."""

import os
import subprocess
import sys

import pytest

from tests import ROOT


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    # A fresh shell: nothing of the test settings' environment. Empty SECRET_KEY beats any developer's .env.
    bare = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"), "DEBUG": "false", "SECRET_KEY": ""}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**bare, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command",
    [["ivs_keygen", "{tmp}/playback.pem", "--name", "site-2026"], ["ivs_rotate_key", "generate", "{tmp}/new.pem"]],
    ids=["ivs_keygen", "ivs_rotate_key"],
)
def test_a_command_without_the_sites_environment_says_what_to_set_in_one_line(command, tmp_path):
    result = manage(*(arg.format(tmp=tmp_path) for arg in command))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Set SECRET_KEY (or SECRET_KEY_FILE); DEBUG is off." in result.stderr
    assert list(tmp_path.iterdir()) == []  # no key was written


def test_an_unreadable_secret_key_file_is_one_line_too(tmp_path):
    result = manage("check", SECRET_KEY_FILE=str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "manage.py: configuration error: SECRET_KEY_FILE cannot be read: No such file or directory. "
        'Run manage.py with the site\'s environment (docs/CONFIGURATION.md, "Commands and their environment").'
    ]


def test_with_the_sites_environment_the_command_runs(tmp_path):
    result = manage(
        "ivs_keygen",
        str(tmp_path / "playback.pem"),
        SECRET_KEY="x" * 50,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite3",
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "playback.pem").exists()
