"""gunicorn.conf.py as gunicorn itself reads it: gunicorn skips names it does not know, so a misspelt setting
would be ignored without a word."""

import runpy
import types

import pytest
from gunicorn.app.base import Application
from gunicorn.config import Config

from tests import ROOT

CONF = ROOT / "gunicorn.conf.py"


class ConfigOnly(Application):
    """gunicorn's own loading of a config file (Application.load_config_from_file), with no command line."""

    def load_config(self):
        self.load_config_from_file(str(CONF))

    def load(self):
        raise AssertionError("only the configuration is read")


def effective_config() -> Config:
    return ConfigOnly().cfg


@pytest.fixture(autouse=True)
def _no_gunicorn_environment(monkeypatch):
    for name in ("GUNICORN_CONTROL_SOCKET", "GUNICORN_CMD_ARGS"):
        monkeypatch.delenv(name, raising=False)


def test_the_control_socket_is_off_by_default():
    assert effective_config().control_socket_disable is True


def test_gunicorn_control_socket_turns_it_on_at_that_path(monkeypatch, tmp_path):
    monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", str(tmp_path / "ivssite.ctl"))
    cfg = effective_config()
    assert cfg.control_socket_disable is False
    assert cfg.control_socket == str(tmp_path / "ivssite.ctl")


@pytest.mark.parametrize("control_socket", [None, "/run/ivssite/gunicorn.ctl"])
def test_every_name_the_file_defines_is_a_gunicorn_setting_or_server_hook(monkeypatch, control_socket):
    # Both branches of the file: each defines different names.
    if control_socket:
        monkeypatch.setenv("GUNICORN_CONTROL_SOCKET", control_socket)
    defined = {
        name
        for name, value in runpy.run_path(str(CONF)).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    # Server hooks (post_fork, when_ready…) are settings in gunicorn's registry too.
    assert defined - set(Config().settings) == set()
